namespace Inbox.Processing;

/// <summary>What one run of a unit of work found: an <see cref="InboxOutcome"/>, or a late message it must reject.</summary>
internal enum UnitOutcome
{
    Processed = InboxOutcome.Processed,
    Duplicate = InboxOutcome.Duplicate,
    Conflict = InboxOutcome.Conflict,

    /// <summary>The message was new, late, and the policy rejects late messages: rolled back, nothing written.</summary>
    RejectedLate,
}
