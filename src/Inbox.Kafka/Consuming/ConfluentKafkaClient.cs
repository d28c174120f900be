using Confluent.Kafka;

namespace Inbox.Kafka.Consuming;

/// <summary>
/// <see cref="IKafkaClient"/> on Confluent's consumer. Partition workers store offsets from their own threads, possibly
/// after the consumer is closed: a closed client ignores them (the next owner of the partition is redelivered what
/// was not committed, and the inbox skips it).
/// </summary>
internal sealed class ConfluentKafkaClient(IConsumer<byte[]?, byte[]?> consumer) : IKafkaClient
{
    private volatile bool _closed;

    public void Pause(IEnumerable<TopicPartition> partitions) => consumer.Pause(partitions);

    public void Resume(IEnumerable<TopicPartition> partitions) => consumer.Resume(partitions);

    public void StoreOffset(TopicPartitionOffset offset)
    {
        if (!_closed)
        {
            consumer.StoreOffset(offset);
        }
    }

    public void Commit() => consumer.Commit();

    /// <summary>From now on, offsets stored by workers still running are ignored.</summary>
    public void Close() => _closed = true;
}
