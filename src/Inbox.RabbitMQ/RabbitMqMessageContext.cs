using Microsoft.EntityFrameworkCore;
using RabbitMQ.Client;

namespace Inbox.RabbitMQ;

/// <summary>Where a RabbitMQ message came from and the ID the inbox recorded it under.</summary>
public sealed class RabbitMqMessageContext
{
    private OutboxWriter? _outbox;

    internal RabbitMqMessageContext(string consumer, string messageId, string queue, string exchange, string routingKey, bool redelivered, IReadOnlyBasicProperties properties)
    {
        Consumer = consumer;
        MessageId = messageId;
        Queue = queue;
        Exchange = exchange;
        RoutingKey = routingKey;
        Redelivered = redelivered;
        Properties = properties;
    }

    /// <summary>
    /// Creates a context as the consumer does for a delivery, with the outbox of <paramref name="db"/>: for a test that
    /// calls a handler itself, such as an <c>Inbox.Testing</c> scenario inside the unit of work.
    /// </summary>
    /// <param name="db">The unit of work's DbContext, whose outbox <see cref="Outbox"/> writes to.</param>
    /// <param name="messageId">The message ID.</param>
    /// <param name="queue">The queue, also the consumer key and the routing key.</param>
    /// <param name="redelivered">Whether the delivery is flagged as redelivered.</param>
    /// <param name="properties">The AMQP properties, or none.</param>
    /// <returns>The context.</returns>
    public static RabbitMqMessageContext ForTest(DbContext db, string messageId, string queue = "test", bool redelivered = false, IReadOnlyBasicProperties? properties = null)
    {
        ArgumentNullException.ThrowIfNull(db);
        return new RabbitMqMessageContext(queue, messageId, queue, "", queue, redelivered, properties ?? new BasicProperties { MessageId = messageId })
        {
            OutboxWriter = db.Outbox(),
        };
    }

    /// <summary>Gets the inbox consumer key the message is recorded under (by default the queue's name).</summary>
    public string Consumer { get; }

    /// <summary>Gets the message ID: the AMQP <c>message_id</c>, a header, a MassTransit envelope's, or the selector's.</summary>
    public string MessageId { get; }

    /// <summary>Gets the queue the message was consumed from.</summary>
    public string Queue { get; }

    /// <summary>Gets the exchange the message was published to (empty for the default exchange).</summary>
    public string Exchange { get; }

    /// <summary>Gets the routing key the message was published with.</summary>
    public string RoutingKey { get; }

    /// <summary>Gets whether the broker delivered the message before (to this or another consumer) without an acknowledgement.</summary>
    public bool Redelivered { get; }

    /// <summary>Gets the message's AMQP properties as received, its headers included.</summary>
    public IReadOnlyBasicProperties Properties { get; }

    /// <summary>
    /// Gets the outbox of the transaction this message is handled in: what the handler writes to it commits with the
    /// message's inbox record and the handler's writes, and is sent after the commit; a rolled-back attempt sends
    /// nothing. Needs <c>modelBuilder.AddOutbox()</c> and <c>services.AddOutbox&lt;TDbContext&gt;(...)</c> with a transport.
    /// </summary>
    /// <exception cref="InvalidOperationException">Read outside a handler call.</exception>
    public OutboxWriter Outbox => _outbox ?? throw new InvalidOperationException("The outbox is available to a handler while it handles this message, inside its transaction.");

    internal OutboxWriter? OutboxWriter
    {
        get => _outbox;
        set => _outbox = value;
    }
}
