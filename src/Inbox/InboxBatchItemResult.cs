namespace Inbox;

/// <summary>What the inbox did with one message of a batch.</summary>
public sealed class InboxBatchItemResult
{
    internal InboxBatchItemResult(string? messageId, InboxOutcome outcome, Exception? error)
    {
        MessageId = messageId;
        Outcome = outcome;
        Error = error;
    }

    /// <summary>Gets the message ID as described, or <see langword="null"/> when none was given.</summary>
    public string? MessageId { get; }

    /// <summary>Gets the outcome. Meaningful only when <see cref="Error"/> is <see langword="null"/>.</summary>
    public InboxOutcome Outcome { get; }

    /// <summary>
    /// Gets why the message failed, or <see langword="null"/> when it succeeded: the handler's exception (nothing
    /// of the message was committed), an <see cref="InvalidInboxInputException"/> or a <see cref="LateMessageException"/>.
    /// </summary>
    public Exception? Error { get; }

    /// <summary>Gets whether the message succeeded (processed, duplicate or conflict).</summary>
    public bool Succeeded => Error is null;
}
