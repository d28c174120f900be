namespace Inbox;

/// <summary>
/// What to do with a message sent longer ago than <see cref="InboxOptions.DeduplicationWindow"/>: its earlier
/// record may already have been purged, so the inbox cannot promise to recognise it as a duplicate.
/// </summary>
public enum LateMessagePolicy
{
    /// <summary>Process it as usual, log a warning and count it. The default.</summary>
    ProcessAndWarn = 0,

    /// <summary>Do not process it: throw <see cref="LateMessageException"/> so that the adapter dead-letters it.</summary>
    Reject = 1,
}
