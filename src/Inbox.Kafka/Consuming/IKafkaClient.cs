using Confluent.Kafka;

namespace Inbox.Kafka.Consuming;

/// <summary>
/// The few calls the partition router, the rebalance handling and the offset committer make on the consumer: a seam
/// small enough for a fake in unit tests. Each may throw <see cref="KafkaException"/>; the callers handle it.
/// </summary>
internal interface IKafkaClient
{
    void Pause(IEnumerable<TopicPartition> partitions);

    void Resume(IEnumerable<TopicPartition> partitions);

    void StoreOffset(TopicPartitionOffset offset);

    void Commit();
}
