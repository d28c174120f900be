using Confluent.Kafka;
using Inbox.Kafka.Tests.Infrastructure;
using Inbox.TestSupport;
using Microsoft.EntityFrameworkCore;

namespace Inbox.Kafka.Tests;

/// <summary>Group changes and failures: whatever happens to the consumers, no message is lost and none has two effects.</summary>
public sealed class InboxKafkaRebalanceTests(ITestOutputHelper output) : KafkaTestBase(output)
{
    [Fact]
    public async Task Rebalance_SecondConsumerJoinsMidStreamAndLeaves_NoDoubleEffectNothingLost()
    {
        await using var broker = await StartBrokerAsync(6);
        var sent = Stream(4_000, 0.05);
        await ProduceAsync(broker, Topic, sent[..1_000]);

        await using var first = await StartConsumerAsync(broker, "c1", o => o.BatchSize = 20);
        first.Probe.Delay = TimeSpan.FromMilliseconds(2);
        await WaitForEffectsAsync(300, TimeSpan.FromSeconds(30), "the first consumer to be under way");

        var second = await StartConsumerAsync(broker, "c2", o => o.BatchSize = 20);
        second.Probe.Delay = TimeSpan.FromMilliseconds(2);
        await ProduceAsync(broker, Topic, sent[1_000..2_000]);
        var joined = await Eventually.Until(
            () => Task.FromResult(second.Probe.Calls > 0), TimeSpan.FromSeconds(30), () => Task.FromResult("the second consumer handled nothing"), "the second consumer to get partitions");
        Output.WriteLine($"The second consumer handled its first message {joined.TotalSeconds:0.0}s after its partitions were produced to.");
        var beforeLeaving = await CountEffectsAsync();
        Assert.True(beforeLeaving < sent.Select(r => r.Id).Distinct().Count(), "the stream must still be in flight when the group changes");

        await ProduceAsync(broker, Topic, sent[2_000..3_000]);
        await Eventually.Until(
            () => Task.FromResult(second.Probe.Calls >= 300), TimeSpan.FromSeconds(30), () => Task.FromResult($"{second.Probe.Calls} calls"), "the second consumer to take a share");
        await second.StopAsync();
        await second.DisposeAsync();
        await ProduceAsync(broker, Topic, sent[3_000..]);

        var unique = sent.Select(r => r.Id).Distinct().Count();
        await WaitForEffectsAsync(unique, TimeSpan.FromSeconds(90), "every unique message after the second consumer left");
        Output.WriteLine($"Handler calls: first {first.Probe.Calls}, second {second.Probe.Calls}; unique messages {unique}.");
        await first.StopAsync();
        await AssertExactlyOnceInOrderAsync(sent);
    }

    [Fact]
    public async Task Crash_ConsumerDiesWithoutCommitting_RedeliveriesSkippedAsDuplicatesNothingLost()
    {
        await using var broker = await StartBrokerAsync(4);
        var sent = Stream(1_200, 0.05);
        await ProduceAsync(broker, Topic, sent[..1_000]);
        var firstUnique = sent[..1_000].Select(r => r.Id).Distinct().Count();

        // The first consumer commits nothing to Kafka before it dies: every message it processed comes back.
        var first = await StartConsumerAsync(broker, "c1", o => o.Consumer.AutoCommitIntervalMs = 3_600_000);
        await WaitForEffectsAsync(firstUnique, TimeSpan.FromSeconds(30), "the first consumer to process its messages");
        await CrashAsync(first, broker, 4);

        await ProduceAsync(broker, Topic, sent[1_000..]);
        await using var second = await StartConsumerAsync(broker, "c2", o => o.Consumer.AutoCommitIntervalMs = 200);
        var unique = sent.Select(r => r.Id).Distinct().Count();
        var took = await WaitForEffectsAsync(unique, TimeSpan.FromSeconds(60), "the second consumer to process the messages sent after the crash");
        await WaitForCommittedToEndAsync(broker, 4);
        Output.WriteLine($"After the crash the second consumer caught up in {took.TotalSeconds:0.0}s.");

        // It redelivered all 1,000 earlier records but ran the handler only for the new IDs sent after the crash.
        var newAfterCrash = sent.Select(r => r.Id).Distinct().Count() - firstUnique;
        Assert.Equal(newAfterCrash, second.Probe.Calls);
        await second.StopAsync();
        await AssertExactlyOnceInOrderAsync(sent);
    }

    [Fact]
    public async Task Faults_OffsetCommitErrorsAndAllBrokersDownThenUp_NothingLostNothingDoubled()
    {
        await using var broker = await StartBrokerAsync(4, faultInjection: true);
        var sent = Stream(2_000, 0.05);
        broker.Mock.PushRequestErrors(
            KafkaMockCluster.OffsetCommitApiKey,
            ErrorCode.RebalanceInProgress,
            ErrorCode.GroupCoordinatorNotAvailable,
            ErrorCode.NotCoordinatorForGroup,
            ErrorCode.RequestTimedOut,
            ErrorCode.IllegalGeneration,
            ErrorCode.RebalanceInProgress);
        await ProduceAsync(broker, Topic, sent[..1_000]);

        await using var consumer = await StartConsumerAsync(broker, "c1", o =>
        {
            o.BatchSize = 25;
            o.Consumer.AutoCommitIntervalMs = 100;
        });
        consumer.Probe.Delay = TimeSpan.FromMilliseconds(1);
        await WaitForEffectsAsync(400, TimeSpan.FromSeconds(30), "processing to be under way");

        // An outage longer than the session timeout: the group loses the member, which drops its in-flight work.
        broker.Mock.BrokersDown();
        var during = await CountEffectsAsync();
        await Task.Delay(TimeSpan.FromSeconds(4));
        broker.Mock.BrokersUp();
        Output.WriteLine($"Brokers were down for 4s with {during} effects committed; brought back up.");

        await ProduceAsync(broker, Topic, sent[1_000..]);
        var unique = sent.Select(r => r.Id).Distinct().Count();
        var took = await WaitForEffectsAsync(unique, TimeSpan.FromSeconds(90), "every message after the outage");
        Output.WriteLine($"Caught up {took.TotalSeconds:0.0}s after the brokers came back; handler calls {consumer.Probe.Calls} for {unique} unique messages.");
        await consumer.StopAsync();
        await AssertExactlyOnceInOrderAsync(sent);
    }
}
