using Confluent.Kafka;

namespace Inbox.Kafka.Consuming;

/// <summary>One consumed record on its way through a batch: its message, its ID, and why it failed, if it did.</summary>
internal sealed class KafkaEnvelope<TMessage>(ConsumeResult<byte[]?, byte[]?> record)
{
    public ConsumeResult<byte[]?, byte[]?> Record { get; } = record;

    public TMessage Message { get; set; } = default!;

    public InboxMessageContext? Context { get; set; }

    public InboxMessage Description { get; set; }

    /// <summary>A <c>InboxKafkaDeadLetterHeaders.Reason*</c> value when the record must go to the dead-letter topic.</summary>
    public string? DeadLetterReason { get; private set; }

    public Exception? Error { get; private set; }

    public void DeadLetter(string reason, Exception error)
    {
        DeadLetterReason = reason;
        Error = error;
    }
}
