using Confluent.Kafka;
using Confluent.Kafka.Admin;
using DotNet.Testcontainers.Builders;
using Testcontainers.Kafka;

namespace Inbox.TestSupport;

/// <summary>
/// The Kafka the tests and benchmarks talk to, picked once per use: KAFKA_BOOTSTRAP_SERVERS when set, else a
/// Testcontainers.Kafka container when a Docker engine answers, else librdkafka's in-process mock cluster. It announces
/// which one runs (to the test output, or the benchmark's terminal). Tests that inject faults ask for the mock explicitly (<see cref="StartMock"/>): only it can.
/// </summary>
public sealed class KafkaBroker : IAsyncDisposable
{
    public const string BootstrapVariable = "KAFKA_BOOTSTRAP_SERVERS";

    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static KafkaContainer? _container;
    private static bool _dockerTried;
    private readonly KafkaMockCluster? _mock;

    private KafkaBroker(string kind, string bootstrapServers, KafkaMockCluster? mock)
    {
        Kind = kind;
        BootstrapServers = bootstrapServers;
        _mock = mock;
    }

    public string Kind { get; }

    public string BootstrapServers { get; }

    /// <summary>Gets the mock cluster's fault injection; throws on a real broker.</summary>
    public KafkaMockCluster Mock => _mock ?? throw new InvalidOperationException($"Fault injection needs the librdkafka mock cluster; this test runs on {Kind}.");

    public static async Task<KafkaBroker> StartAsync(Action<string> announce)
    {
        if (Environment.GetEnvironmentVariable(BootstrapVariable) is { Length: > 0 } servers)
        {
            return Announce(new KafkaBroker($"Kafka at {servers} ({BootstrapVariable})", servers, null), announce);
        }

        if (await ContainerAsync() is { } container)
        {
            return Announce(new KafkaBroker("Testcontainers.Kafka", container.GetBootstrapAddress(), null), announce);
        }

        return StartMock(announce);
    }

    public static KafkaBroker StartMock(Action<string> announce)
    {
        var mock = new KafkaMockCluster();
        return Announce(new KafkaBroker("librdkafka mock cluster (in-process)", mock.BootstrapServers, mock), announce);
    }

    public async Task CreateTopicAsync(string topic, int partitions)
    {
        if (_mock is not null)
        {
            _mock.CreateTopic(topic, partitions);
            return;
        }

        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = BootstrapServers }).Build();
        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = partitions, ReplicationFactor = 1 }]);
    }

    public IProducer<string, string> CreateProducer() => new ProducerBuilder<string, string>(ProducerConfig()).Build();

    public ProducerConfig ProducerConfig() => new() { BootstrapServers = BootstrapServers, Acks = Acks.All, LingerMs = 5 };

    public ConsumerConfig ConsumerConfig(string groupId) => new()
    {
        BootstrapServers = BootstrapServers,
        GroupId = groupId,
        AutoOffsetReset = AutoOffsetReset.Earliest,
        SessionTimeoutMs = 2_000,
        HeartbeatIntervalMs = 200,
    };

    /// <summary>Reads every record of a topic from the beginning until <paramref name="count"/> arrived or the timeout passed.</summary>
    public List<ConsumeResult<string, string>> ReadAll(string topic, int count, TimeSpan timeout)
    {
        using var consumer = new ConsumerBuilder<string, string>(ConsumerConfig($"reader-{Guid.NewGuid():N}")).Build();
        consumer.Subscribe(topic);
        var records = new List<ConsumeResult<string, string>>();
        var deadline = DateTime.UtcNow + timeout;
        while (records.Count < count && DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { Message: not null } record)
            {
                records.Add(record);
            }
        }

        consumer.Close();
        return records;
    }

    /// <summary>The group's committed offset and the high watermark of every partition of a topic.</summary>
    public List<(int Partition, long Committed, long End)> Progress(string group, string topic, int partitions)
    {
        using var consumer = new ConsumerBuilder<string, string>(ConsumerConfig(group)).Build();
        var all = Enumerable.Range(0, partitions).Select(p => new TopicPartition(topic, p)).ToList();
        var committed = consumer.Committed(all, TimeSpan.FromSeconds(10));
        return committed
            .Select(c => (c.Partition.Value, c.Offset.Value, consumer.QueryWatermarkOffsets(c.TopicPartition, TimeSpan.FromSeconds(10)).High.Value))
            .OrderBy(p => p.Item1)
            .ToList();
    }

    public ValueTask DisposeAsync()
    {
        _mock?.Dispose();
        return ValueTask.CompletedTask;
    }

    private static KafkaBroker Announce(KafkaBroker broker, Action<string> announce)
    {
        announce($"Kafka broker: {broker.Kind} at {broker.BootstrapServers}");
        return broker;
    }

    private static async Task<KafkaContainer?> ContainerAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (!_dockerTried)
            {
                _dockerTried = true;
                try
                {
                    var container = new KafkaBuilder("confluentinc/cp-kafka:7.6.1").Build();
                    await container.StartAsync();
                    _container = container;
                }
                catch (Exception exception) when (exception is DockerUnavailableException or TimeoutException or HttpRequestException or ArgumentException or InvalidOperationException)
                {
                    _container = null;
                }
            }

            return _container;
        }
        finally
        {
            Gate.Release();
        }
    }
}
