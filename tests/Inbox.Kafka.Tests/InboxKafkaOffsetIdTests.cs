using System.Diagnostics.Metrics;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Inbox.Kafka.Consuming;
using Inbox.Kafka.DeadLettering;
using Inbox.Kafka.Offsets;
using Inbox.Kafka.Telemetry;
using Inbox.Kafka.Tests.Infrastructure;
using Inbox.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Inbox.Kafka.Tests;

/// <summary>
/// With database offsets, a record known by its offset (no ID header) writes no inbox record: the partition's offset
/// row, written in the same transaction, proves it. Where the offset row cannot (a record past one it holds back), the
/// record is recorded after all.
/// </summary>
public sealed class InboxKafkaOffsetIdTests(ITestOutputHelper output) : KafkaTestBase(output)
{
    [Fact]
    public async Task DatabaseOffsets_RecordsKnownByTheirOffset_WriteNoInboxRecord_AndACrashRunsNothingTwice()
    {
        await using var broker = await StartBrokerAsync(3);
        var sent = Stream(450, 0);
        await ProduceWithoutIdsAsync(broker, sent[..300]);

        var first = await StartConsumerAsync(broker, "c1", o =>
        {
            o.StoreOffsetsInDatabase = true;
            o.Consumer.AutoCommitIntervalMs = 3_600_000;
        });
        await WaitForEffectsAsync(300, TimeSpan.FromSeconds(30), "the first consumer to process its records");
        await WaitForDatabaseOffsetsAsync(300);
        Assert.Equal(0, await InboxRecordsAsync());

        // Killed with no Kafka commit: only the database offsets tell the next owner where to start.
        await CrashAsync(first, broker, 3);
        await ProduceWithoutIdsAsync(broker, sent[300..]);
        await using var second = await StartConsumerAsync(broker, "c2", o => o.StoreOffsetsInDatabase = true);
        await WaitForEffectsAsync(450, TimeSpan.FromSeconds(30), "the records sent after the crash");
        await WaitForDatabaseOffsetsAsync(450);
        await second.StopAsync();

        Assert.Equal(150, second.Probe.Calls);
        await using var db = CreateDb();
        var effects = await db.Effects.Select(e => new { e.MessageId, e.Partition, e.Offset }).ToListAsync();
        Assert.Equal(450, effects.Count);
        Assert.Equal(450, effects.Select(e => e.MessageId).Distinct().Count());
        Assert.All(effects, e => Assert.Equal($"{Topic}/{e.Partition}/{e.Offset}", e.MessageId));
        Assert.Equal(0, await InboxRecordsAsync());
    }

    [Fact]
    public async Task DatabaseOffsets_RecordsKnownByTheirOffset_ConsumerKilledWithSigkillThreeTimes_ExactlyOnceWithNoInboxRecord()
    {
        await using var broker = await StartBrokerAsync(3);
        var sent = Stream(6_000, 0);
        await ProduceWithoutIdsAsync(broker, sent);

        // Each life is killed mid-stream, between some batch's commit and the next: only the offset rows, written in the
        // batches' transactions, say what was done. The worker takes 3 ms a record (at most ~1,000 a second over three
        // partitions), so that three lives of 1,000 records each end well before the stream does on any machine: on a
        // fast one, unslowed lives once ran through all 6,000 records before the third kill.
        var kills = new List<string>();
        for (var life = 0; life < 3; life++)
        {
            var before = await CountEffectsAsync();
            using var worker = await WorkerProcess.StartAsync(
                typeof(ChainWorker).Assembly, "chain-a", broker.BootstrapServers, ConnectionString, Topic, "-", Group, "false", "database-offsets", "delay-ms=3");
            await Eventually.Until(
                async () => await CountEffectsAsync() >= before + 1_000,
                TimeSpan.FromSeconds(60),
                async () => $"{await CountEffectsAsync()} effects",
                "the next life to be under way");
            worker.Kill();
            var killedWith = await CountEffectsAsync();
            Assert.True(killedWith < 6_000, $"life {life + 1} was to be killed mid-stream but had processed all 6,000 records");
            kills.Add($"killed with {killedWith} effects, database offsets at {await DatabaseOffsetSumAsync()}");
        }

        await using (var last = await StartConsumerAsync(broker, "last", o => o.StoreOffsetsInDatabase = true))
        {
            await WaitForEffectsAsync(6_000, TimeSpan.FromSeconds(60), "the last life to process the rest");
            await WaitForDatabaseOffsetsAsync(6_000);
            await last.StopAsync();
        }

        kills.ForEach(Output.WriteLine);
        await using var db = CreateDb();
        var effects = await db.Effects.Select(e => new { e.MessageId, e.Partition, e.Offset }).ToListAsync();
        Assert.Equal(6_000, effects.Count);
        Assert.Equal(6_000, effects.Select(e => e.MessageId).Distinct().Count());
        Assert.All(effects, e => Assert.Equal($"{Topic}/{e.Partition}/{e.Offset}", e.MessageId));
        Assert.Equal(0, await InboxRecordsAsync());
    }

    [Fact]
    public async Task AnotherOwnerCommitsTheOffsetWhileABatchWaitsForIt_TheRecordsItCoversDoNotRunAgain()
    {
        await using var broker = await StartBrokerAsync(1);
        var sent = Stream(100, 0);
        await ProduceWithoutIdsAsync(broker, sent);

        // Another owner of the partition, still in its transaction, has processed records 0 to 59 (as far as the offset
        // row says): its uncommitted row makes this consumer's first batch wait for it.
        await using var other = new NpgsqlConnection(ConnectionString);
        await other.OpenAsync();
        await using var transaction = await other.BeginTransactionAsync();
        await using (var insert = new NpgsqlCommand("INSERT INTO inbox_kafka_offsets (consumer, topic, partition, next_offset) VALUES ($1, $2, 0, 60)", other, transaction))
        {
            insert.Parameters.Add(new NpgsqlParameter { Value = Group });
            insert.Parameters.Add(new NpgsqlParameter { Value = Topic });
            await insert.ExecuteNonQueryAsync();
        }

        await using var consumer = await StartConsumerAsync(broker, "c1", o => o.StoreOffsetsInDatabase = true);
        await Eventually.Until(
            async () => await WaitingOnALockAsync() > 0,
            TimeSpan.FromSeconds(30),
            async () => $"{await WaitingOnALockAsync()} sessions waiting on a lock",
            "the consumer's first batch to wait for the other owner's offset row");
        Assert.Equal(0, await CountEffectsAsync());
        await transaction.CommitAsync();

        await WaitForDatabaseOffsetsAsync(100);
        await WaitForEffectsAsync(40, TimeSpan.FromSeconds(30), "the records past the other owner's offset");
        await consumer.StopAsync();

        await using var db = CreateDb();
        var offsets = await db.Effects.OrderBy(e => e.Offset).Select(e => e.Offset).ToListAsync();
        Assert.Equal(Enumerable.Range(60, 40).Select(i => (long)i), offsets);
        Assert.Equal(40, consumer.Probe.Calls);
        Assert.Equal(0, await InboxRecordsAsync());
    }

    [Fact]
    public async Task ARecordPastOneTheOffsetHoldsBack_IsRecorded_SoARunFromThatOffsetRunsNothingTwice()
    {
        // The batch processor itself, so that the batches are exactly these.
        await using var processor = await ProcessorAsync(new ProducerConfig { BootstrapServers = "127.0.0.1:1" });
        var (sut, probe) = (processor.Sut, processor.Probe);
        var partition = new TopicPartition(Topic, 0);

        await sut.ProcessAsync(partition, [At(0, "order-1", 0)], CancellationToken.None);

        // Known by its offset, a copy of order-1 (a duplicate: the transaction's offset stops at 2), known by its offset.
        await sut.ProcessAsync(partition, [At(1, null, 1), At(2, "order-1", 0), At(3, null, 2)], CancellationToken.None);

        Assert.Equal(3, probe.Calls);
        Assert.Equal(["order-1", $"{Topic}/0/3"], await InboxIdsAsync());
        Assert.Equal(4, await DatabaseOffsetSumAsync());

        // As if the owner had died between its commit and moving the offset past the copy: the next run starts at 2.
        await using (var db = CreateDb())
        {
            await db.Database.ExecuteSqlRawAsync("UPDATE inbox_kafka_offsets SET next_offset = 2");
        }

        await sut.ProcessAsync(partition, [At(2, "order-1", 0), At(3, null, 2)], CancellationToken.None);

        Assert.Equal(3, probe.Calls);
        Assert.Equal(3, await CountEffectsAsync());
        Assert.Equal(4, await DatabaseOffsetSumAsync());
    }

    [Fact]
    public async Task AHandlerFailsInABatchOfRecordsKnownByOffset_EachOtherIsProvenByTheOffsetOrARecord_ARunFromTheFailureRunsNothingTwice()
    {
        await using var broker = await StartBrokerAsync(1);
        await broker.CreateTopicAsync(Topic + ".dlt", 1);
        await using var processor = await ProcessorAsync(broker.ProducerConfig());
        var partition = new TopicPartition(Topic, 0);

        // The batch fails on the poison record; the inbox then runs each record in a unit of its own.
        await processor.Sut.ProcessAsync(partition, [At(1, null, 1), At(2, null, 2, poison: true), At(3, null, 3)], CancellationToken.None);

        Assert.Equal([1L, 3L], await EffectOffsetsAsync());
        Assert.Equal([$"{Topic}/0/3"], await InboxIdsAsync());
        Assert.Equal(4, await DatabaseOffsetSumAsync());
        Assert.Single(broker.ReadAll(Topic + ".dlt", 1, TimeSpan.FromSeconds(10)));

        // As if the owner had died before the offset passed the dead letter: the next run starts at the poison record.
        await using (var db = CreateDb())
        {
            await db.Database.ExecuteSqlRawAsync("UPDATE inbox_kafka_offsets SET next_offset = 2");
        }

        await processor.Sut.ProcessAsync(partition, [At(2, null, 2, poison: true), At(3, null, 3)], CancellationToken.None);

        Assert.Equal([1L, 3L], await EffectOffsetsAsync());
        Assert.Equal(4, await DatabaseOffsetSumAsync());
    }

    [Fact]
    public async Task TheFirstRecordOfANewPartitionFails_ItsRetryIsNotCoveredByTheOthersOffset_ItIsDeadLettered()
    {
        await using var broker = await StartBrokerAsync(1);
        await broker.CreateTopicAsync(Topic + ".dlt", 1);
        await using var processor = await ProcessorAsync(broker.ProducerConfig(), handlerRetries: 1);
        var partition = new TopicPartition(Topic, 0);

        // No offset row yet. The batch fails, the second record commits in a unit of its own (creating the row), then the
        // first record is retried on its own: the row must not already cover it.
        await processor.Sut.ProcessAsync(partition, [At(1, null, 1, poison: true), At(2, null, 2)], CancellationToken.None);

        var deadLetters = broker.ReadAll(Topic + ".dlt", 1, TimeSpan.FromSeconds(10));
        Assert.Equal(["1"], deadLetters.Select(d => Encoding.UTF8.GetString(d.Message.Headers.GetLastBytes(InboxKafkaDeadLetterHeaders.OriginalOffset))));
        Assert.Equal([2L], await EffectOffsetsAsync());
        Assert.Equal(3, await DatabaseOffsetSumAsync());
    }

    [Fact]
    public async Task ARecordKnownByItsOffset_IsNeverLate_UnderTheRejectPolicy()
    {
        await using var processor = await ProcessorAsync(
            new ProducerConfig { BootstrapServers = "127.0.0.1:1" },
            inbox: o =>
            {
                o.DeduplicationWindow = TimeSpan.FromHours(1);
                o.LateMessagePolicy = LateMessagePolicy.Reject;
            });
        var partition = new TopicPartition(Topic, 0);
        var twoHoursAgo = DateTime.UtcNow.AddHours(-2);

        // Sent two hours ago, past a one-hour window: the offset row proves it whatever its age, so it is processed. A
        // late rejection would try the dead-letter topic, which here is unreachable, until the deadline cancels it.
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await processor.Sut.ProcessAsync(partition, [At(0, null, 0, sent: twoHoursAgo)], deadline.Token);

        Assert.Equal([0L], await EffectOffsetsAsync());
        Assert.Equal(1, await DatabaseOffsetSumAsync());
    }

    private async Task<List<long>> EffectOffsetsAsync()
    {
        await using var db = CreateDb();
        return await db.Effects.OrderBy(e => e.Offset).Select(e => e.Offset).ToListAsync();
    }

    private async Task<Processor> ProcessorAsync(ProducerConfig deadLetterProducer, int handlerRetries = 0, Action<InboxOptions>? inbox = null)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddMetrics();
        services.AddDbContext<TestDbContext>(o => o.UseNpgsql(ConnectionString));
        services.AddInbox<TestDbContext>(o =>
        {
            o.PurgeEnabled = false;
            inbox?.Invoke(o);
        });
        services.AddSingleton<HandlerProbe>();
        services.AddScoped<OrderPlacedHandler>();
        var provider = services.BuildServiceProvider();
        var options = new InboxKafkaConsumerOptions<OrderPlaced>
        {
            Topics = [Topic],
            Consumer = new ConsumerConfig { BootstrapServers = "127.0.0.1:1", GroupId = Group },
            StoreOffsetsInDatabase = true,
            HandlerRetries = handlerRetries,
            RetryDelay = TimeSpan.FromMilliseconds(10),
        };
        var deadLetters = new DeadLetterProducer(deadLetterProducer, null, Group);
        var slots = new SemaphoreSlim(1, 1);
        var sut = new KafkaBatchProcessor<TestDbContext, OrderPlaced, OrderPlacedHandler>(
            provider.GetRequiredService<IServiceScopeFactory>(), options, Group, new DatabaseBatchOffsets(Group, TimeProvider.System), deadLetters, slots,
            new InboxKafkaTelemetry(provider.GetRequiredService<IMeterFactory>()), TimeProvider.System, NullLogger.Instance);
        await Task.CompletedTask;
        return new Processor(sut, provider.GetRequiredService<HandlerProbe>(), provider, deadLetters, slots);
    }

    private sealed record Processor(
        KafkaBatchProcessor<TestDbContext, OrderPlaced, OrderPlacedHandler> Sut, HandlerProbe Probe, ServiceProvider Provider, DeadLetterProducer DeadLetters, SemaphoreSlim Slots)
        : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            DeadLetters.Dispose();
            Slots.Dispose();
            await Provider.DisposeAsync();
        }
    }

    private ConsumeResult<byte[]?, byte[]?> At(long offset, string? id, int sequence, bool poison = false, DateTime? sent = null) => new()
    {
        TopicPartitionOffset = new TopicPartitionOffset(Topic, 0, offset),
        Message = new Message<byte[]?, byte[]?>
        {
            Key = Encoding.UTF8.GetBytes("k"),
            Value = JsonSerializer.SerializeToUtf8Bytes(new OrderPlaced("k", sequence, poison), JsonSerializerOptions.Web),
            Headers = id is null ? [] : [new Header("MessageId", Encoding.UTF8.GetBytes(id))],
            Timestamp = new Timestamp(sent ?? DateTime.UtcNow),
        },
    };

    private async Task ProduceWithoutIdsAsync(KafkaBroker broker, IEnumerable<(string Key, OrderPlaced Message, string Id)> records)
    {
        using var producer = broker.CreateProducer();
        foreach (var (key, message, _) in records)
        {
            producer.Produce(Topic, new Message<string, string> { Key = key, Value = JsonSerializer.Serialize(message, JsonSerializerOptions.Web) });
        }

        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
        await Task.CompletedTask;
    }

    private Task<TimeSpan> WaitForDatabaseOffsetsAsync(long total) =>
        Eventually.Until(
            async () => await DatabaseOffsetSumAsync() == total,
            TimeSpan.FromSeconds(30),
            async () => $"database offsets sum to {await DatabaseOffsetSumAsync()}",
            $"the database offsets to cover all {total} records");

    private async Task<long> DatabaseOffsetSumAsync()
    {
        await using var db = CreateDb();
        return await db.Database.SqlQueryRaw<long>("SELECT coalesce(sum(next_offset), 0)::bigint AS \"Value\" FROM inbox_kafka_offsets WHERE consumer = {0}", Group).SingleAsync();
    }

    private async Task<int> InboxRecordsAsync()
    {
        await using var db = CreateDb();
        return await db.Database.SqlQueryRaw<int>("SELECT count(*)::int AS \"Value\" FROM inbox_messages").SingleAsync();
    }

    private async Task<List<string>> InboxIdsAsync()
    {
        await using var db = CreateDb();
        return await db.Database.SqlQueryRaw<string>("SELECT message_id AS \"Value\" FROM inbox_messages ORDER BY 1").ToListAsync();
    }

    private async Task<int> WaitingOnALockAsync()
    {
        await using var db = CreateDb();
        return await db.Database.SqlQueryRaw<int>("SELECT count(*)::int AS \"Value\" FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'").SingleAsync();
    }
}
