using Inbox.Kafka.Tests.Infrastructure;
using Inbox.TestSupport;

namespace Inbox.Kafka.Tests;

/// <summary>A database outage under load: held and retried as a whole batch, never dead-lettered, never one by one.</summary>
public sealed class InboxKafkaDatabaseOutageTests(ITestOutputHelper output) : KafkaTestBase(output)
{
    [Fact]
    public async Task PostgresRestartedTwiceUnderLoad_ExactlyOnceInOrder_NothingDeadLettered_NoBatchFallsBackOneByOne()
    {
        await using var server = await StartOwnPostgresAsync();

        await using var broker = await StartBrokerAsync(6);
        await broker.CreateTopicAsync(Topic + ".dlt", 1);
        var sent = Stream(4_000, 0.1);
        var unique = sent.Select(r => r.Id).Distinct().Count();
        await ProduceAsync(broker, Topic, sent);

        await using var consumer = await StartConsumerAsync(broker, "c1", o => o.BatchSize = 50, connectionString: server.ConnectionString);
        // Slow enough that both restarts fall while records are still being processed, on any machine: six partitions
        // at 20 ms a record take at least 13 s for the 4,000, the restarts about 8 s. Fast again after the second.
        consumer.Probe.Delay = TimeSpan.FromMilliseconds(20);
        await Eventually.Until(async () => await CountEffectsAsync(server.ConnectionString) > 0, TimeSpan.FromSeconds(30), () => Task.FromResult("none"), "the consumer to be under way");
        var before = await CountEffectsAsync(server.ConnectionString);
        var down = await server.RestartAsync(TimeSpan.FromSeconds(3));
        await Task.Delay(TimeSpan.FromSeconds(1));
        var between = await CountEffectsAsync(server.ConnectionString);
        down += await server.RestartAsync(TimeSpan.FromSeconds(3));
        var after = await CountEffectsAsync(server.ConnectionString);
        consumer.Probe.Delay = TimeSpan.Zero;
        Output.WriteLine($"Effects before the restarts {before}, between them {between}, after them {after}; down {down.TotalSeconds:0.0}s in all; {unique} unique.");
        Assert.True(after < unique, "the second restart must come while records are still being processed");

        await Eventually.Until(
            async () => await CountEffectsAsync(server.ConnectionString) == unique,
            TimeSpan.FromSeconds(90),
            async () => $"{await CountEffectsAsync(server.ConnectionString)} of {unique}",
            "every unique record after the restarts");
        await consumer.StopAsync();

        await AssertExactlyOnceInOrderAsync(sent, server.ConnectionString);
        const int deadLettering = 112, batchFallback = 5;
        Assert.Equal(0, consumer.Logs.Count(deadLettering));
        Assert.Equal(0, consumer.Logs.Count(batchFallback));
        Assert.Empty(broker.ReadAll(Topic + ".dlt", 1, TimeSpan.FromSeconds(2)));
    }
}
