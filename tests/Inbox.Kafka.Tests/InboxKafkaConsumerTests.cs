using System.Diagnostics;
using Inbox.Kafka.Tests.Infrastructure;

namespace Inbox.Kafka.Tests;

public sealed class InboxKafkaConsumerTests(ITestOutputHelper output) : KafkaTestBase(output)
{
    [Fact]
    public async Task Consume_5000MessagesOver6PartitionsWith10PercentDuplicates_EachUniqueIdOnceInKeyOrder()
    {
        await using var broker = await StartBrokerAsync(6);
        var sent = Stream(5_000, 0.10);
        var unique = sent.Select(r => r.Id).Distinct().Count();
        Output.WriteLine($"{sent.Count} records, {unique} unique IDs, {sent.Count - unique} duplicates");
        await ProduceAsync(broker, Topic, sent);

        var watch = Stopwatch.StartNew();
        await using var consumer = await StartConsumerAsync(broker, "c1");
        await WaitForEffectsAsync(unique, TimeSpan.FromSeconds(60), "every unique message to be processed");
        Output.WriteLine($"Processed {unique} unique of {sent.Count} records in {watch.Elapsed.TotalSeconds:0.0}s ({sent.Count / watch.Elapsed.TotalSeconds:0} records/s, including the group join)");
        await consumer.StopAsync();

        await AssertExactlyOnceInOrderAsync(sent);
    }

    [Fact]
    public async Task Consume_PartitionsPausedAndResumedByASmallBuffer_EachUniqueIdOnceInKeyOrder()
    {
        await using var broker = await StartBrokerAsync(6);
        var sent = Stream(3_000, 0.10, seed: 11);
        var unique = sent.Select(r => r.Id).Distinct().Count();
        await ProduceAsync(broker, Topic, sent);

        // Every partition receives far more than 20 records, so each is paused and resumed many times.
        await using var consumer = await StartConsumerAsync(broker, "small-buffer", o =>
        {
            o.BatchSize = 10;
            o.MaxBufferedPerPartition = 20;
        });
        await WaitForEffectsAsync(unique, TimeSpan.FromSeconds(90), "every unique message to be processed through pauses");
        await consumer.StopAsync();

        const int paused = 116, resumed = 117;
        Output.WriteLine($"{consumer.Logs.Count(paused)} pauses, {consumer.Logs.Count(resumed)} resumes");
        Assert.True(consumer.Logs.Count(paused) >= 6, $"expected every partition to be paused at least once; saw {consumer.Logs.Count(paused)} pauses");
        Assert.True(consumer.Logs.Count(resumed) >= 6, $"expected every partition to be resumed at least once; saw {consumer.Logs.Count(resumed)} resumes");

        await AssertExactlyOnceInOrderAsync(sent);
    }
}
