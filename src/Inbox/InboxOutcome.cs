namespace Inbox;

/// <summary>What the inbox did with one message.</summary>
public enum InboxOutcome
{
    /// <summary>The message was new: the handler ran and its writes committed together with the inbox record.</summary>
    Processed = 0,

    /// <summary>The message ID was already recorded for this consumer: the handler did not run.</summary>
    Duplicate = 1,

    /// <summary>
    /// The message ID was already recorded for this consumer with a different fingerprint: the same ID was
    /// reused for other content. The handler did not run.
    /// </summary>
    Conflict = 2,
}
