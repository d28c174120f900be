using Confluent.Kafka;
using Inbox.TestSupport;

namespace Inbox.Testing.Tests.Support;

/// <summary>The invoices topic on a mock cluster of its own, and how many records reached it.</summary>
public sealed class InvoiceTopic : IDisposable
{
    public InvoiceTopic() => Cluster.CreateTopic("invoices", 1);

    public KafkaMockCluster Cluster { get; } = new();

    public long CountRecords(string topic)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = Cluster.BootstrapServers, GroupId = "count" }).Build();
        var offsets = consumer.QueryWatermarkOffsets(new TopicPartition(topic, 0), TimeSpan.FromSeconds(10));
        return offsets.High - offsets.Low;
    }

    public void Dispose() => Cluster.Dispose();
}
