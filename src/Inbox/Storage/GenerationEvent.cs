namespace Inbox.Storage;

/// <summary>What a retention pass by generations did, for the purger's logs and counters.</summary>
internal readonly record struct GenerationEvent(GenerationEventKind Kind, long Generation, long Count, TimeSpan Elapsed);

/// <summary>The kinds of <see cref="GenerationEvent"/>.</summary>
internal enum GenerationEventKind
{
    Rotated,
    Settled,
    StillSettling,
    TruncateBusy,
}
