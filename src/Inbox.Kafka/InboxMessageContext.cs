using Confluent.Kafka;

namespace Inbox.Kafka;

/// <summary>Where a Kafka message came from and the ID the inbox recorded it under.</summary>
public sealed class InboxMessageContext
{
    private readonly byte[]? _key;

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
}
