using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Inbox.Kafka.Tests.Infrastructure;
using Inbox.TestSupport;
using Microsoft.EntityFrameworkCore;

namespace Inbox.Kafka.Tests;

/// <summary>
/// With offsets in the database, a record bound for the dead-letter topic must be produced there (and acknowledged)
/// before any committed offset passes it: a crash in between must not leave it skipped, never processed, never
/// dead-lettered.
/// </summary>
public sealed class InboxKafkaDeadLetterOrderTests(ITestOutputHelper output) : KafkaTestBase(output)
{
    [Theory]
    [InlineData("unreadable")]
    [InlineData("invalid-id")]
    public async Task DatabaseOffsets_CrashWhileADeadLetterIsNotYetAcknowledged_NextOwnerDeadLettersItNothingSkipped(string kind)
    {
        await using var broker = await StartBrokerAsync(1);
        await broker.CreateTopicAsync(Topic + ".dlt", 1);
        var healthy = Stream(40, 0);
        var before = healthy[..20];
        var after = healthy[20..];
        await ProduceAsync(broker, Topic, before);
        using (var producer = broker.CreateProducer())
        {
            // Read and rejected before the batch (unreadable), or rejected by the inbox inside it (an ID over 256 characters).
            await producer.ProduceAsync(Topic, kind == "unreadable"
                ? Record("{ this is not json", "garbage-1")
                : Record(JsonSerializer.Serialize(new OrderPlaced("other", 0), JsonSerializerOptions.Web), new string('x', 300)));
        }

        await ProduceAsync(broker, Topic, after);

        // The first owner cannot reach the dead-letter topic's cluster: its dead letters keep failing.
        var first = await StartConsumerAsync(broker, "c1", o =>
        {
            o.StoreOffsetsInDatabase = true;
            o.HandlerRetries = 0;
            o.Consumer.AutoCommitIntervalMs = 3_600_000;
            o.Producer = new ProducerConfig { BootstrapServers = "127.0.0.1:1", MessageTimeoutMs = 500, SocketTimeoutMs = 500 };
        });
        const int deadLetterFailed = 113;
        await Eventually.Until(
            () => Task.FromResult(first.Logs.Count(deadLetterFailed) >= 2),
            TimeSpan.FromSeconds(30),
            () => Task.FromResult($"{first.Logs.Count(deadLetterFailed)} failed dead-letter produces"),
            "the first owner to be stuck on its dead letter");
        var stored = await DatabaseOffsetAsync();
        Output.WriteLine($"Database offset while the dead letter fails: {stored?.ToString() ?? "none"} (the rejected record is at 20).");
        Assert.True(stored is null or <= 20, $"the database offset {stored} passes records whose dead letters were never acknowledged");
        await CrashAsync(first, broker, 1);

        await using var second = await StartConsumerAsync(broker, "c2", o =>
        {
            o.StoreOffsetsInDatabase = true;
            o.HandlerRetries = 0;
        });
        var deadLetters = broker.ReadAll(Topic + ".dlt", 1, TimeSpan.FromSeconds(30));
        await WaitForEffectsAsync(40, TimeSpan.FromSeconds(30), "every healthy record");
        await second.StopAsync();

        Assert.Equal(["20"], deadLetters.Select(d => Encoding.UTF8.GetString(d.Message.Headers.GetLastBytes(InboxKafkaDeadLetterHeaders.OriginalOffset))));
        await AssertExactlyOnceInOrderAsync(healthy);
        Assert.Equal(41, await DatabaseOffsetAsync());
    }

    private async Task<long?> DatabaseOffsetAsync()
    {
        await using var db = CreateDb();
        return (await db.Database.SqlQueryRaw<long>("SELECT next_offset AS \"Value\" FROM inbox_kafka_offsets WHERE consumer = {0}", Group).ToListAsync()).Cast<long?>().SingleOrDefault();
    }

    private static Message<string, string> Record(string value, string id) => new()
    {
        Key = "k",
        Value = value,
        Headers = [new Header("MessageId", Encoding.UTF8.GetBytes(id))],
    };
}
