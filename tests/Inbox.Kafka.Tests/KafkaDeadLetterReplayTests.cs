using Confluent.Kafka;
using Inbox.Kafka.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Inbox.Kafka.Tests;

/// <summary>
/// Dead letters replayed to their topic after the bug that sent them there is fixed: each keeps its message ID, so the
/// ones processed meanwhile are duplicates; a replay stopped part way resumes where it stopped.
/// </summary>
public sealed class KafkaDeadLetterReplayTests(ITestOutputHelper output) : KafkaTestBase(output)
{
    [Fact]
    public async Task Replay_OfAHundredDeadLetters_TenProcessedMeanwhile_GivesAHundredEffects_AndAResumedReplaySendsNothingTwice()
    {
        await using var broker = await StartBrokerAsync(1);
        var deadLetters = Topic + ".dlt";
        await broker.CreateTopicAsync(deadLetters, 1);
        var sent = Stream(100, 0);
        await using var consumer = await StartConsumerAsync(broker, "c1", o =>
        {
            o.HandlerRetries = 0;
            o.Consumer.AutoCommitIntervalMs = 200;
        });

        // A bug fails every order: all hundred are dead-lettered.
        consumer.Probe.Broken = true;
        await ProduceAsync(broker, Topic, sent);
        Assert.Equal(100, broker.ReadAll(deadLetters, 100, TimeSpan.FromSeconds(60)).Count);
        Assert.Equal(0, await CountEffectsAsync());

        // The bug is fixed, and ten of the orders come again from their producer meanwhile.
        consumer.Probe.Broken = false;
        await ProduceAsync(broker, Topic, sent.Take(10));
        await WaitForEffectsAsync(10, TimeSpan.FromSeconds(30), "the ten orders sent again");

        var group = $"replay-{Guid.NewGuid():N}";
        var dryRun = await ReplayAsync(broker, group, o => o.DryRun = true);
        var oneId = await ReplayAsync(broker, group, o => (o.DryRun, o.MessageIds) = (true, [sent[50].Id]));
        var otherReason = await ReplayAsync(broker, group, o => (o.DryRun, o.Reason) = (true, InboxKafkaDeadLetterHeaders.ReasonDeserializationFailed));
        Assert.Equal((100L, 100L, 0L, true), (dryRun.Read, dryRun.Matched, dryRun.Replayed, dryRun.Complete));
        Assert.Equal((100L, 1L), (oneId.Read, oneId.Matched));
        Assert.Equal(0, otherReason.Matched);

        // One order replayed alone first (a filter): it keeps no progress, so the full replay still finds every dead letter.
        var alone = await ReplayAsync(broker, group, o => o.MessageIds = [sent[99].Id]);
        Assert.Equal((100L, 1L, 1L), (alone.Read, alone.Matched, alone.Replayed));

        // Stopped after 40 (a limit, as an operator trying a few first would), then resumed: the dry runs kept no progress.
        var first = await ReplayAsync(broker, group, o => o.Limit = 40);
        var rest = await ReplayAsync(broker, group);
        var again = await ReplayAsync(broker, group);
        Output.WriteLine($"first: {first}; rest: {rest}; again: {again}");
        Assert.Equal((40L, 40L, false), (first.Read, first.Replayed, first.Complete));
        Assert.Equal((60L, 60L, true), (rest.Read, rest.Replayed, rest.Complete));
        Assert.Equal((0L, true), (again.Read, again.Complete));

        await WaitForEffectsAsync(100, TimeSpan.FromSeconds(60), "the replayed orders");
        await WaitForCommittedToEndAsync(broker, 1);
        await consumer.StopAsync();
        await using var db = CreateDb();
        Assert.Equal(100, await db.Effects.CountAsync());
        Assert.Equal(sent.Select(s => s.Id).Order(), (await db.Effects.Select(e => e.MessageId).ToListAsync()).Order());

        // The topic got each dead letter back once per replay that selected it: the hundred orders, the ten sent again, the
        // one replayed alone, the hundred of the full replay (its copy of the one was a duplicate).
        Assert.Equal(211, broker.Progress(Group, Topic, 1)[0].End);
    }

    [Fact]
    public async Task Replay_CancelledPartWay_CommitsWhatWasAcknowledged_AndTheResumedReplaySendsEachRecordOnce()
    {
        await using var broker = await StartBrokerAsync(1);
        var deadLetters = Topic + ".dlt";
        await broker.CreateTopicAsync(deadLetters, 1);
        using (var producer = broker.CreateProducer())
        {
            for (var i = 0; i < 1_200; i++)
            {
                producer.Produce(deadLetters, new Message<string, string>
                {
                    Key = $"k-{i % 7}",
                    Value = $"{{\"n\":{i}}}",
                    Headers = [new Header(InboxKafkaDeadLetterHeaders.OriginalTopic, System.Text.Encoding.UTF8.GetBytes(Topic))],
                });
            }

            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
        }

        // Cancelled as soon as the first chunk (500) is acknowledged: the records in flight then are awaited and committed.
        var group = $"replay-{Guid.NewGuid():N}";
        using var cancel = new CancellationTokenSource();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ReplayAsync(broker, group, o => o.Progress = new CancelOnReport(cancel), cancel.Token));
        var afterCancel = broker.Progress(group, deadLetters, 1)[0].Committed;
        var rest = await ReplayAsync(broker, group);
        Output.WriteLine($"committed at the cancel: {afterCancel}; the resumed replay: {rest}");

        Assert.InRange(afterCancel, 500, 1_199);
        Assert.Equal((1_200 - afterCancel, true), (rest.Replayed, rest.Complete));
        var replayed = broker.ReadAll(Topic, 1_200, TimeSpan.FromSeconds(30));
        Assert.Equal(1_200, replayed.Count);
        Assert.Equal(1_200, replayed.Select(r => r.Message.Value).Distinct().Count());
        Assert.Equal(1_200, broker.Progress(group, Topic, 1)[0].End);
    }

    [Fact]
    public async Task Replay_OfATopicThatDoesNotExist_SaysSo_AndProducesNothing()
    {
        await using var broker = await StartBrokerAsync(1);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => KafkaDeadLetters.ReplayAsync(new KafkaDeadLetterReplayOptions
        {
            Cluster = new ClientConfig { BootstrapServers = broker.BootstrapServers, AllowAutoCreateTopics = false },
            DeadLetterTopic = "no-such-topic.dlt",
        }));

        Assert.Contains("no-such-topic.dlt does not exist", error.Message, StringComparison.Ordinal);
    }

    private Task<Inbox.Operations.DeadLetterReplayResult> ReplayAsync(Inbox.TestSupport.KafkaBroker broker, string group, Action<KafkaDeadLetterReplayOptions>? configure = null, CancellationToken cancellationToken = default)
    {
        var options = new KafkaDeadLetterReplayOptions
        {
            Cluster = new ClientConfig { BootstrapServers = broker.BootstrapServers },
            DeadLetterTopic = Topic + ".dlt",
            GroupId = group,
        };
        configure?.Invoke(options);
        return KafkaDeadLetters.ReplayAsync(options, cancellationToken);
    }

    /// <summary>Cancels the replay at its first report, on the replay's own thread (Progress&lt;T&gt; would post it later).</summary>
    private sealed class CancelOnReport(CancellationTokenSource cancel) : IProgress<Inbox.Operations.DeadLetterReplayResult>
    {
        public void Report(Inbox.Operations.DeadLetterReplayResult value) => cancel.Cancel();
    }
}
