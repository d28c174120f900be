using System.Collections.Concurrent;
using Confluent.Kafka;
using Inbox.Kafka.Consuming;

namespace Inbox.Kafka.Tests.Consuming;

/// <summary>Records what the pieces ask of the consumer; can be told to fail like librdkafka does.</summary>
internal sealed class FakeKafkaClient : IKafkaClient
{
    public HashSet<TopicPartition> Paused { get; } = [];

    public ConcurrentQueue<string> Calls { get; } = new();

    public ConcurrentQueue<TopicPartitionOffset> Stored { get; } = new();

    public int Commits { get; private set; }

    public ErrorCode? FailCommitWith { get; set; }

    public ErrorCode? FailStoreWith { get; set; }

    public ErrorCode? FailPauseWith { get; set; }

    public ErrorCode? FailResumeWith { get; set; }

    public void Pause(IEnumerable<TopicPartition> partitions)
    {
        if (FailPauseWith is { } code)
        {
            throw new KafkaException(code);
        }

        foreach (var partition in partitions)
        {
            Paused.Add(partition);
            Calls.Enqueue($"pause {partition}");
        }
    }

    public void Resume(IEnumerable<TopicPartition> partitions)
    {
        if (FailResumeWith is { } code)
        {
            throw new KafkaException(code);
        }

        foreach (var partition in partitions)
        {
            Paused.Remove(partition);
            Calls.Enqueue($"resume {partition}");
        }
    }

    public void StoreOffset(TopicPartitionOffset offset)
    {
        if (FailStoreWith is { } code)
        {
            throw new KafkaException(code);
        }

        Stored.Enqueue(offset);
    }

    public void Commit()
    {
        Commits++;
        if (FailCommitWith is { } code)
        {
            throw new KafkaException(code);
        }
    }
}
