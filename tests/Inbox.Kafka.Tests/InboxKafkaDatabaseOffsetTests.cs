using Inbox.Kafka.Tests.Infrastructure;
using Inbox.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Inbox.Kafka.Tests;

/// <summary>With offsets in the database, a Kafka commit that never happened costs nothing.</summary>
public sealed class InboxKafkaDatabaseOffsetTests(ITestOutputHelper output) : KafkaTestBase(output)
{
    /// <param name="retrying">Whether the DbContext runs under Npgsql's retrying execution strategy (EnableRetryOnFailure).</param>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task DatabaseOffsets_RestartWithKafkaCommitsBehind_ResumesFromDatabaseOffsets(bool retrying)
    {
        await using var broker = await StartBrokerAsync(3);
        var sent = Stream(900, 0); // No duplicate IDs: the test forgets the inbox records half-way.
        await ProduceAsync(broker, Topic, sent[..600]);
        var firstUnique = sent[..600].Select(r => r.Id).Distinct().Count();

        var first = await StartConsumerAsync(
            broker,
            "c1",
            o =>
            {
                o.StoreOffsetsInDatabase = true;
                o.Consumer.AutoCommitIntervalMs = 3_600_000;
            },
            Retrying(retrying));
        await WaitForEffectsAsync(firstUnique, TimeSpan.FromSeconds(30), "the first consumer to process its messages");
        var progress = broker.Progress(Group, Topic, 3);
        await Eventually.Until(
            async () => (await DatabaseOffsetsAsync()).SequenceEqual(progress.Select(p => p.End)),
            TimeSpan.FromSeconds(30),
            async () => $"database offsets {string.Join(",", await DatabaseOffsetsAsync())}, ends {string.Join(",", progress.Select(p => p.End))}",
            "the database offsets to reach each partition's end");
        await CrashAsync(first, broker, 3);

        // Forget the inbox records: only the database offsets can now keep the first 600 records from running again.
        await using (var db = CreateDb())
        {
            await db.Database.ExecuteSqlRawAsync("DELETE FROM inbox_messages");
        }

        await ProduceAsync(broker, Topic, sent[600..]);
        await using var second = await StartConsumerAsync(broker, "c2", o => o.StoreOffsetsInDatabase = true, Retrying(retrying));
        var unique = sent.Select(r => r.Id).Distinct().Count();
        await WaitForEffectsAsync(unique, TimeSpan.FromSeconds(60), "the records sent after the restart");
        await Eventually.Until(
            async () => (await DatabaseOffsetsAsync()).Sum() == 900,
            TimeSpan.FromSeconds(30),
            async () => $"database offsets {string.Join(",", await DatabaseOffsetsAsync())}",
            "the database offsets to cover all 900 records");
        await second.StopAsync();

        Assert.Equal(unique - firstUnique, second.Probe.Calls);
        await using var check = CreateDb();
        var effects = await check.Effects.ToListAsync();
        Assert.Equal(unique, effects.Count);
        Assert.Equal(unique, effects.Select(e => e.MessageId).Distinct().Count());
    }

    /// <summary>Puts the consumer's DbContext under Npgsql's retrying execution strategy, or leaves it as it is.</summary>
    private Action<IServiceCollection>? Retrying(bool retrying) => retrying
        ? s => s.ConfigureDbContext<TestDbContext>(o => o.UseNpgsql(ConnectionString, npgsql => npgsql.EnableRetryOnFailure()))
        : null;

    private async Task<List<long>> DatabaseOffsetsAsync()
    {
        await using var db = CreateDb();
        return await db.Database
            .SqlQueryRaw<long>("SELECT next_offset AS \"Value\" FROM inbox_kafka_offsets WHERE consumer = {0} ORDER BY partition", Group)
            .ToListAsync();
    }
}
