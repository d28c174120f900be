namespace Inbox.RabbitMQ;

/// <summary>
/// The headers added to a message published to the dead-letter queue (its body, properties and original headers are
/// kept), and the values of <see cref="Reason"/>. The names and reasons are those of the Kafka adapter's dead letters.
/// </summary>
public static class InboxRabbitMqDeadLetterHeaders
{
    /// <summary>Why the message was dead-lettered: one of the <c>Reason*</c> values.</summary>
    public const string Reason = "inbox-dlt-reason";

    /// <summary>The full name of the exception type that caused it.</summary>
    public const string ExceptionType = "inbox-dlt-exception-type";

    /// <summary>The exception's message.</summary>
    public const string ExceptionMessage = "inbox-dlt-exception-message";

    /// <summary>The queue the message was consumed from.</summary>
    public const string OriginalQueue = "inbox-dlt-original-queue";

    /// <summary>The inbox consumer key (by default the queue's name).</summary>
    public const string Consumer = "inbox-dlt-consumer";

    /// <summary>The message ID, when one was found.</summary>
    public const string MessageId = "inbox-dlt-message-id";

    /// <summary>The handler kept failing after the configured retries.</summary>
    public const string ReasonHandlerFailed = "handler-failed";

    /// <summary>The body could not be deserialized.</summary>
    public const string ReasonDeserializationFailed = "deserialization-failed";

    /// <summary>No message ID was found: no <c>message_id</c>, none of the headers, no envelope ID, nothing from the selector.</summary>
    public const string ReasonMissingMessageId = "missing-message-id";

    /// <summary>The message ID cannot be recorded (empty, too long or with control characters).</summary>
    public const string ReasonInvalidMessageId = "invalid-message-id";

    /// <summary>The message ID was processed before with other content (fingerprints differ) and <c>InboxOptions.ConflictPolicy</c> rejects it.</summary>
    public const string ReasonConflict = "message-id-conflict";

    /// <summary>The message is older than the deduplication window and the late-message policy rejects it.</summary>
    public const string ReasonLateMessage = "late-message";
}
