using Confluent.Kafka;
using Microsoft.EntityFrameworkCore;

namespace Inbox.Kafka;

/// <summary>Where a Kafka message came from and the ID the inbox recorded it under.</summary>
public sealed class InboxMessageContext
{
    private readonly byte[]? _key;
    private OutboxWriter? _outbox;

    internal InboxMessageContext(string consumer, string messageId, ConsumeResult<byte[]?, byte[]?> result)
    {
        Consumer = consumer;
        MessageId = messageId;
        Topic = result.Topic;
        Partition = result.Partition.Value;
        Offset = result.Offset.Value;
        _key = result.Message.Key;
        Headers = result.Message.Headers ?? [];
        Timestamp = result.Message.Timestamp;
    }

    /// <summary>
    /// Creates a context as the consumer does for a record, with the outbox of <paramref name="db"/>: for a test that
    /// calls a handler itself, such as an <c>Inbox.Testing</c> scenario inside the unit of work.
    /// </summary>
    /// <param name="db">The unit of work's DbContext, whose outbox <see cref="Outbox"/> writes to.</param>
    /// <param name="messageId">The message ID.</param>
    /// <param name="topic">The topic.</param>
    /// <param name="key">The record's key, or none.</param>
    /// <param name="headers">The record's headers, or none.</param>
    /// <param name="consumer">The consumer name (the consumer group's), or the topic's when none is given.</param>
    /// <returns>The context, at partition 0, offset 0.</returns>
    public static InboxMessageContext ForTest(DbContext db, string messageId, string topic = "test", byte[]? key = null, Headers? headers = null, string? consumer = null)
    {
        ArgumentNullException.ThrowIfNull(db);
        var record = new ConsumeResult<byte[]?, byte[]?>
        {
            TopicPartitionOffset = new TopicPartitionOffset(topic, 0, 0),
            Message = new Message<byte[]?, byte[]?> { Key = key, Headers = headers ?? [], Timestamp = Timestamp.Default },
        };
        return new InboxMessageContext(consumer ?? topic, messageId, record) { OutboxWriter = db.Outbox() };
    }

    /// <summary>Gets the inbox consumer name the message is recorded under (by default the consumer group ID).</summary>
    public string Consumer { get; }

    /// <summary>Gets the message ID: from a header, the message ID selector, or <c>topic/partition/offset</c>.</summary>
    public string MessageId { get; }

    /// <summary>Gets the topic the message was consumed from.</summary>
    public string Topic { get; }

    /// <summary>Gets the partition the message was consumed from.</summary>
    public int Partition { get; }

    /// <summary>Gets the message's offset in its partition.</summary>
    public long Offset { get; }

    /// <summary>Gets the message key's raw bytes; empty when the message has no key.</summary>
    public ReadOnlyMemory<byte> Key => _key;

    /// <summary>Gets whether the message has a key (a null key and an empty key differ in Kafka).</summary>
    public bool HasKey => _key is not null;

    /// <summary>Gets the message headers as received.</summary>
    public Headers Headers { get; }

    /// <summary>Gets the message timestamp (create or log-append time, as the topic is configured).</summary>
    public Timestamp Timestamp { get; }

    /// <summary>
    /// Gets the outbox of the transaction this message is handled in: what the handler writes to it (e.g.
    /// <c>context.Outbox.Produce("invoices", key, evt)</c>) commits with the message's inbox record and the handler's
    /// writes, and is sent after the commit; a rolled-back attempt sends nothing. Needs <c>modelBuilder.AddOutbox()</c>
    /// and <c>services.AddOutbox&lt;TDbContext&gt;(o =&gt; o.UseKafka(...))</c>.
    /// </summary>
    /// <exception cref="InvalidOperationException">Read outside a handler call.</exception>
    public OutboxWriter Outbox => _outbox ?? throw new InvalidOperationException("The outbox is available to a handler while it handles this message, inside its transaction.");

    internal OutboxWriter? OutboxWriter
    {
        get => _outbox;
        set => _outbox = value;
    }
}
