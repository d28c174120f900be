using Confluent.Kafka;

namespace Inbox.Kafka.Offsets;

/// <summary>
/// Where a subscription keeps its partitions' next offsets besides Kafka: read when partitions are assigned, so that the
/// consumer seeks there. Kafka's own committed offsets need nothing read (<see cref="BrokerOffsets"/>).
/// </summary>
internal interface IAssignedOffsets
{
    /// <summary>The next offsets of those of <paramref name="partitions"/> that have one; runs in the rebalance callback.</summary>
    IReadOnlyDictionary<TopicPartition, long> Read(List<TopicPartition> partitions);
}
