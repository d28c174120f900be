namespace Inbox;

/// <summary>
/// What to do with a message whose ID this consumer already processed with other content: its fingerprint (see
/// <see cref="InboxMessage.Fingerprint"/>) differs from the one recorded, so the ID was reused for another message.
/// Only messages with a fingerprint can conflict.
/// </summary>
public enum ConflictPolicy
{
    /// <summary>
    /// Reject it: <see cref="IInbox{TDbContext}"/> throws <see cref="InboxConflictException"/> (in a batch, the
    /// item's error), so that the adapter sends it to the error queue or dead-letter topic. The default.
    /// </summary>
    Reject = 0,

    /// <summary>Skip it like a duplicate, with a warning; the outcome is <see cref="InboxOutcome.Conflict"/>.</summary>
    Skip = 1,
}
