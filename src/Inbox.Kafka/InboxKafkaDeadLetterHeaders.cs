namespace Inbox.Kafka;

/// <summary>
/// The headers added to a message produced to the dead-letter topic (its key, value and original headers are kept),
/// and the values of <see cref="Reason"/>.
/// </summary>
public static class InboxKafkaDeadLetterHeaders
{
    /// <summary>Why the message was dead-lettered: one of the <c>Reason*</c> values.</summary>
    public const string Reason = "inbox-dlt-reason";

    /// <summary>The full name of the exception type that caused it.</summary>
    public const string ExceptionType = "inbox-dlt-exception-type";

    /// <summary>The exception's message.</summary>
    public const string ExceptionMessage = "inbox-dlt-exception-message";

    /// <summary>The topic the message was consumed from.</summary>
    public const string OriginalTopic = "inbox-dlt-original-topic";

    /// <summary>The partition the message was consumed from, in decimal.</summary>
    public const string OriginalPartition = "inbox-dlt-original-partition";

    /// <summary>The message's offset in that partition, in decimal.</summary>
    public const string OriginalOffset = "inbox-dlt-original-offset";

    /// <summary>The inbox consumer name (by default the consumer group ID).</summary>
    public const string Consumer = "inbox-dlt-consumer";

    /// <summary>The message ID, when one was found.</summary>
    public const string MessageId = "inbox-dlt-message-id";

    /// <summary>The handler kept failing after the configured retries.</summary>
    public const string ReasonHandlerFailed = "handler-failed";

    /// <summary>The value could not be deserialized.</summary>
    public const string ReasonDeserializationFailed = "deserialization-failed";

    /// <summary>No message ID was found and the topic/partition/offset fallback is off.</summary>
    public const string ReasonMissingMessageId = "missing-message-id";

    /// <summary>The message ID cannot be recorded (empty, too long or with control characters).</summary>
    public const string ReasonInvalidMessageId = "invalid-message-id";

    /// <summary>The message ID was processed before with other content (fingerprints differ) and <c>InboxOptions.ConflictPolicy</c> rejects it.</summary>
    public const string ReasonConflict = "message-id-conflict";

    /// <summary>The message is older than the deduplication window and the late-message policy rejects it.</summary>
    public const string ReasonLateMessage = "late-message";
}
