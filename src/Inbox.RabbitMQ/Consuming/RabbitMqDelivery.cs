using RabbitMQ.Client.Events;

namespace Inbox.RabbitMQ.Consuming;

/// <summary>One delivery on its way through the consumer: its message, its ID, and why it must be dead-lettered, if it must.</summary>
internal sealed class RabbitMqDelivery<TMessage>(BasicDeliverEventArgs args, ReadOnlyMemory<byte> body)
{
    public BasicDeliverEventArgs Args { get; } = args;

    /// <summary>
    /// The body: the delivery's own memory, valid only while RabbitMQ.Client's callback runs, or a copy for a delivery that
    /// waits for its batch after the callback returned.
    /// </summary>
    public ReadOnlyMemory<byte> Body { get; } = body;

    public TMessage Message { get; set; } = default!;

    /// <summary>The message ID, once found (it may still be invalid).</summary>
    public string? MessageId { get; set; }

    public InboxMessage Description { get; set; }

    public RabbitMqMessageContext? Context { get; set; }

    /// <summary>A <c>InboxRabbitMqDeadLetterHeaders.Reason*</c> value when the delivery must go to the dead-letter queue.</summary>
    public string? DeadLetterReason { get; private set; }

    public Exception? Error { get; private set; }

    public void DeadLetter(string reason, Exception error)
    {
        DeadLetterReason = reason;
        Error = error;
    }
}
