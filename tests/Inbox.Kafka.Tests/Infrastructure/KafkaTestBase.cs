using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Inbox.TestSupport;
using Microsoft.EntityFrameworkCore;

namespace Inbox.Kafka.Tests.Infrastructure;

/// <summary>A fresh PostgreSQL database per test, a unique topic and group, and the assertions every test shares.</summary>
public abstract class KafkaTestBase(ITestOutputHelper output) : IAsyncLifetime
{
    private PostgresDatabase? _database;

    protected ITestOutputHelper Output { get; } = output;

    protected string ConnectionString => _database!.ConnectionString;

    protected string Topic { get; } = $"orders-{Guid.NewGuid():N}";

    protected string Group { get; } = $"billing-{Guid.NewGuid():N}";

    public async Task InitializeAsync()
    {
        _database = await PostgresDatabase.CreateAsync("inbox_kafka");
        await using var db = CreateDb();
        await db.Database.EnsureCreatedAsync();
    }

    public async Task DisposeAsync()
    {
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }

    /// <summary>A PostgreSQL server of this test's own (which it may stop and restart), with the schema created.</summary>
    protected async Task<PostgresServer> StartOwnPostgresAsync()
    {
        var server = await PostgresServer.StartAsync();
        await using var db = CreateDb(server.ConnectionString);
        await db.Database.EnsureCreatedAsync();
        return server;
    }

    /// <summary>The broker the fixture picks (or the mock, for fault injection) with this test's topic created.</summary>
    protected async Task<KafkaBroker> StartBrokerAsync(int partitions, bool faultInjection = false)
    {
        var broker = faultInjection ? KafkaBroker.StartMock(Output.WriteLine) : await KafkaBroker.StartAsync(Output.WriteLine);
        await broker.CreateTopicAsync(Topic, partitions);
        return broker;
    }

    /// <summary>Kills a consumer without commit or Close, and checks that Kafka holds no committed offset for the group.</summary>
    protected async Task CrashAsync(ConsumerHost consumer, KafkaBroker broker, int partitions)
    {
        await consumer.AbandonAsync();
        await consumer.DisposeAsync();
        Assert.All(broker.Progress(Group, Topic, partitions), p => Assert.True(p.Committed < 0, $"partition {p.Partition} has a Kafka commit {p.Committed}; the test needs none"));
    }

    protected Task<TimeSpan> WaitForCommittedToEndAsync(KafkaBroker broker, int partitions) =>
        Eventually.Until(
            () => Task.FromResult(broker.Progress(Group, Topic, partitions).All(p => p.Committed == p.End)),
            TimeSpan.FromSeconds(30),
            () => Task.FromResult(string.Join("; ", broker.Progress(Group, Topic, partitions))),
            "the group to commit every partition to its end");

    protected TestDbContext CreateDb(string? connectionString = null) =>
        new(new DbContextOptionsBuilder<TestDbContext>().UseNpgsql(connectionString ?? ConnectionString).Options);

    protected Task<ConsumerHost> StartConsumerAsync(
        KafkaBroker broker,
        string name,
        Action<InboxKafkaConsumerOptions<OrderPlaced>>? configure = null,
        Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? services = null,
        string? connectionString = null) =>
        ConsumerHost.StartAsync(
            connectionString ?? ConnectionString,
            Output,
            name,
            o =>
            {
                o.Topics = [Topic];
                o.Consumer = broker.ConsumerConfig(Group);
                o.RetryDelay = TimeSpan.FromMilliseconds(100);
                configure?.Invoke(o);
            },
            services);

    /// <summary>A stream of <paramref name="count"/> records over 50 keys; a share of them repeat an earlier message's ID later on.</summary>
    protected static List<(string Key, OrderPlaced Message, string Id)> Stream(int count, double duplicateShare, int seed = 7)
    {
        var random = new Random(seed);
        var records = new List<(string Key, OrderPlaced Message, string Id)>(count);
        var sequences = new int[50];
        while (records.Count < count)
        {
            if (records.Count > 10 && random.NextDouble() < duplicateShare)
            {
                records.Add(records[random.Next(records.Count)]);
                continue;
            }

            var key = random.Next(50);
            var id = $"m-{records.Count}-{Guid.NewGuid():N}";
            records.Add(($"key-{key}", new OrderPlaced($"key-{key}", sequences[key]++), id));
        }

        return records;
    }

    protected static async Task ProduceAsync(KafkaBroker broker, string topic, IEnumerable<(string Key, OrderPlaced Message, string Id)> records)
    {
        using var producer = broker.CreateProducer();
        foreach (var (key, message, id) in records)
        {
            producer.Produce(topic, new Message<string, string>
            {
                Key = key,
                Value = JsonSerializer.Serialize(message, JsonSerializerOptions.Web),
                Headers = [new Header("MessageId", Encoding.UTF8.GetBytes(id))],
            });
        }

        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
        await Task.CompletedTask;
    }

    protected async Task<int> CountEffectsAsync(string? connectionString = null)
    {
        await using var db = CreateDb(connectionString);
        return await db.Effects.CountAsync();
    }

    protected Task<TimeSpan> WaitForEffectsAsync(int expected, TimeSpan timeout, string what) =>
        Eventually.Until(
            async () => await CountEffectsAsync() >= expected,
            timeout,
            async () => $"{await CountEffectsAsync()} of {expected} effects",
            what);

    /// <summary>Every unique ID has exactly one effect, nothing else has one, and each key's effects are in send order.</summary>
    protected async Task AssertExactlyOnceInOrderAsync(IEnumerable<(string Key, OrderPlaced Message, string Id)> sent, string? connectionString = null)
    {
        var unique = sent.Select(r => r.Id).Distinct().ToHashSet();
        await using var db = CreateDb(connectionString);
        var effects = await db.Effects.OrderBy(e => e.Id).ToListAsync();
        var doubled = effects.GroupBy(e => e.MessageId).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(doubled.Count == 0, $"{doubled.Count} messages had a double effect, e.g. {string.Join(", ", doubled.Take(5))}");
        var missing = unique.Except(effects.Select(e => e.MessageId)).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} messages were lost, e.g. {string.Join(", ", missing.Take(5))}");
        Assert.Equal(unique.Count, effects.Count);
        foreach (var key in effects.GroupBy(e => e.Key))
        {
            var sequences = key.Select(e => e.Sequence).ToList();
            Assert.True(sequences.SequenceEqual(sequences.Order()), $"{key.Key} was processed out of order: {string.Join(",", sequences)}");
        }

        var inboxRows = await db.Database.SqlQueryRaw<int>("SELECT count(*)::int AS \"Value\" FROM inbox_messages").SingleAsync();
        Assert.Equal(unique.Count, inboxRows);
    }
}
