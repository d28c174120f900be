namespace Inbox.Storage;

/// <summary>The control row of an inbox kept by generations, as one statement read it.</summary>
/// <param name="Generation">The current generation.</param>
/// <param name="StartedAt">When the current generation became current; null before the purger's first pass.</param>
/// <param name="PreviousStartedAt">When the previous generation became current.</param>
/// <param name="OldestStartedAt">When the generation before that became current.</param>
/// <param name="Settling">Whether units that read the previous generation as current may still be running.</param>
/// <param name="SettleAfter">The transaction ID every such unit is below, once taken.</param>
/// <param name="OldestRunning">The oldest transaction ID still running, as the statement's snapshot saw it.</param>
internal sealed record GenerationState(
    long Generation,
    DateTimeOffset? StartedAt,
    DateTimeOffset? PreviousStartedAt,
    DateTimeOffset? OldestStartedAt,
    bool Settling,
    long? SettleAfter,
    long OldestRunning);
