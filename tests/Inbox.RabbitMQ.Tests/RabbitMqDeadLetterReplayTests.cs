using Inbox.RabbitMQ.Tests.Support;
using Inbox.TestSupport;
using RabbitMQ.Client;

namespace Inbox.RabbitMQ.Tests;

/// <summary>
/// Dead letters moved back to their queue after the bug that sent them there is fixed, on the real RabbitMQ and
/// PostgreSQL: each keeps its message ID, so the ones processed meanwhile are duplicates; a replay stopped part way
/// resumes with what is left; the ones a filter leaves stay in the dead-letter queue.
/// </summary>
public sealed class RabbitMqDeadLetterReplayTests
{
    [Fact]
    public async Task Replay_OfAHundredDeadLetters_TenProcessedMeanwhile_GivesAHundredInvoices_AndAResumedReplayMovesNothingTwice()
    {
        await using var harness = await ConsumerHarness.CreateAsync();
        await harness.DeclareAsync();
        var orders = Enumerable.Range(0, 100).Select(i => ($"m-{i}", $"order-{i}")).ToList();

        // A bug fails every order: all hundred are dead-lettered.
        foreach (var (id, _) in orders)
        {
            harness.Probe.FailuresLeft[id] = int.MaxValue;
        }

        await harness.StartAsync(o => o.HandlerRetries = 0);
        await harness.PublishManyAsync(orders);
        await Eventually.WaitAsync(async () => await harness.CountAsync(harness.DeadLetterQueue) == 100, "the hundred orders to be dead-lettered");
        Assert.Empty(await harness.InvoicesAsync());

        // The bug is fixed, and ten of the orders come again from their producer meanwhile.
        harness.Probe.FailuresLeft.Clear();
        await harness.PublishManyAsync(orders.Take(10));
        await Eventually.WaitAsync(async () => (await harness.InvoicesAsync()).Count == 10, "the ten orders sent again");

        var dryRun = await ReplayAsync(harness, o => o.DryRun = true);
        var oneId = await ReplayAsync(harness, o => (o.DryRun, o.MessageIds) = (true, ["m-50"]));
        Assert.Equal((100L, 100L, 0L, true), (dryRun.Read, dryRun.Matched, dryRun.Replayed, dryRun.Complete));
        Assert.Equal((100L, 1L), (oneId.Read, oneId.Matched));
        Assert.Equal(100u, await harness.CountAsync(harness.DeadLetterQueue));

        // Only m-99 first: the others stay, in their order. Then 40, then the rest.
        var single = await ReplayAsync(harness, o => o.MessageIds = ["m-99"]);
        var first = await ReplayAsync(harness, o => o.Limit = 40);
        Assert.Equal(59u, await harness.CountAsync(harness.DeadLetterQueue));
        var rest = await ReplayAsync(harness);
        var again = await ReplayAsync(harness);
        Assert.Equal((100L, 1L, 1L, true), (single.Read, single.Matched, single.Replayed, single.Complete));
        Assert.Equal((40L, 40L, false), (first.Read, first.Replayed, first.Complete));
        Assert.Equal((59L, 59L, true), (rest.Read, rest.Replayed, rest.Complete));
        Assert.Equal(0L, again.Read);

        await Eventually.WaitAsync(async () => await harness.CountAsync(harness.Queue) == 0 && (await harness.InvoicesAsync()).Count == 100, "the replayed orders");
        await harness.StopAsync();
        var invoices = await harness.InvoicesAsync();
        Assert.Equal(orders.Select(o => o.Item1).Order(), invoices.Select(i => i.MessageId).Order());
        Assert.Equal(0u, await harness.CountAsync(harness.DeadLetterQueue));

        // Each order ran once to its commit after the fix: the ten sent again, the ninety replayed; the ten replayed
        // copies of those were duplicates.
        Assert.Equal(100, invoices.Count);
    }

    [Fact]
    public async Task Replay_ToATargetQueueThatDoesNotExist_LeavesEachDeadLetterInPlace_AndCountsIt()
    {
        await using var harness = await ConsumerHarness.CreateAsync();
        await harness.DeclareAsync();
        harness.Probe.FailuresLeft["m-1"] = int.MaxValue;
        harness.Probe.FailuresLeft["m-2"] = int.MaxValue;
        await harness.StartAsync(o => o.HandlerRetries = 0);
        await harness.PublishManyAsync([("m-1", "order-1"), ("m-2", "order-2")]);
        await Eventually.WaitAsync(async () => await harness.CountAsync(harness.DeadLetterQueue) == 2, "both orders to be dead-lettered");
        await harness.StopAsync();

        var replay = await ReplayAsync(harness, o => o.TargetQueue = $"no-such-queue-{Guid.NewGuid():N}");

        Assert.Equal((2L, 2L, 0L, 2L, true), (replay.Read, replay.Matched, replay.Replayed, replay.Unreplayable, replay.Complete));
        Assert.Equal(2u, await harness.CountAsync(harness.DeadLetterQueue));
    }

    [Fact]
    public async Task Replay_OfAQueueThatDoesNotExist_SaysSo()
    {
        await using var harness = await ConsumerHarness.CreateAsync();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => RabbitMqDeadLetters.ReplayAsync(new RabbitMqDeadLetterReplayOptions
        {
            Connection = new ConnectionFactory { Uri = harness.Broker },
            DeadLetterQueue = "no-such-queue.dead-letter",
        }));

        Assert.Contains("no-such-queue.dead-letter does not exist", error.Message, StringComparison.Ordinal);
    }

    private static Task<Inbox.Operations.DeadLetterReplayResult> ReplayAsync(ConsumerHarness harness, Action<RabbitMqDeadLetterReplayOptions>? configure = null)
    {
        var options = new RabbitMqDeadLetterReplayOptions { Connection = new ConnectionFactory { Uri = harness.Broker }, DeadLetterQueue = harness.DeadLetterQueue };
        configure?.Invoke(options);
        return RabbitMqDeadLetters.ReplayAsync(options);
    }
}
