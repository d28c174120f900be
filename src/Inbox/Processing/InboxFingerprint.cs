namespace Inbox.Processing;

/// <summary>Compares fingerprints: a conflict needs both sides to have one.</summary>
internal static class InboxFingerprint
{
    public static bool Differs(byte[]? stored, byte[]? incoming)
        => stored is not null && incoming is not null && !stored.AsSpan().SequenceEqual(incoming);
}
