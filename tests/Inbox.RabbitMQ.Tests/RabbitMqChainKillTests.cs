using Inbox.RabbitMQ.Tests.Support;
using Inbox.TestSupport;
using Microsoft.EntityFrameworkCore;

namespace Inbox.RabbitMQ.Tests;

/// <summary>
/// The chain A → B through the RabbitMQ outbox, across processes, on the real RabbitMQ and PostgreSQL: service A
/// (<see cref="ConsumerWorker"/> chain-a, a process of its own) consumes orders, writes an invoice per new order and sends
/// an <see cref="InvoiceCreated"/> to B's queue through its outbox; service B (<see cref="Notifier"/>, in this process,
/// with a database of its own) writes one notification per message, inboxed. A is killed with SIGKILL four times: first
/// with committed outbox rows it never sent (its dispatcher off, so the kill falls between commit and dispatch), then
/// three times mid-stream with rows pending or on their way. Proves that B sees every unique order exactly once: none
/// lost, none twice (a message sent again after a kill comes under its row's stable ID and B's inbox skips it), none
/// dead-lettered.
/// </summary>
public sealed class RabbitMqChainKillTests(ITestOutputHelper output)
{
    private const int UniqueOrders = 1_000;

    // Life 1 is killed once this many orders wait in A's outbox, each life with dispatch once it has done this many more
    // orders. A takes 20 ms a message, eight at once (at most ~400 a second), so every kill comes mid-stream however fast
    // the machine: 100 + 3 × 150 orders, plus what a life does between the test's last look (every 100 ms) and its kill,
    // stays well short of 1,000. The test asserts that it did.
    private const int UnsentAtFirstKill = 100;
    private const int OrdersPerLife = 150;
    private const string HandlerDelayMs = "20";

    [Fact]
    public async Task Chain_ServiceAKilledWithSigkillFourTimes_IncludingBetweenCommitAndDispatch_BSeesEveryUniqueIdOnce()
    {
        await using var harness = await ConsumerHarness.CreateAsync();
        await harness.DeclareAsync();
        var invoices = await harness.DeclareOtherQueueAsync("invoices");
        await using var b = await Notifier.StartAsync(harness.Broker, invoices);

        // 1,100 sends: every tenth order a second time under the same message ID, shuffled.
        var unique = Enumerable.Range(0, UniqueOrders).Select(i => (MessageId: $"m-{i}", OrderId: $"order-{i}")).ToList();
        var sends = unique.Concat(unique.Where((_, i) => i % 10 == 0)).OrderBy(_ => Random.Shared.Next()).ToList();
        await harness.PublishManyAsync(sends);

        // First life: A commits orders with their outbox rows and sends nothing; killed with the rows committed, unsent.
        using (var a = await StartServiceAAsync(harness, invoices, dispatch: false))
        {
            await Eventually.Until(
                async () => (await harness.OutboxAsync()).Pending >= UnsentAtFirstKill,
                TimeSpan.FromSeconds(60),
                async () => $"{(await harness.OutboxAsync()).Pending} outbox rows",
                "committed rows waiting in A's outbox");
            a.Kill();
        }

        var (unsent, _) = await harness.OutboxAsync();
        var committed = await OrdersDoneAsync(harness);
        Assert.True(committed < UniqueOrders, $"life 1 was to be killed mid-stream but A had done all {UniqueOrders} orders");
        Assert.Equal(committed, unsent);
        Assert.Equal(0u, await harness.CountAsync(invoices));
        Assert.Equal(0, await b.CountAsync());
        output.WriteLine($"life 1 (dispatch off) killed with {unsent} committed rows unsent, {committed} orders done, 0 notifications downstream");

        // Three lives with dispatch, each killed mid-stream, with rows it committed waiting to be sent or on their way.
        for (var life = 2; life <= 4; life++)
        {
            var before = await OrdersDoneAsync(harness);
            using var a = await StartServiceAAsync(harness, invoices, dispatch: true);
            await Eventually.Until(
                async () => await OrdersDoneAsync(harness) >= before + OrdersPerLife && (await harness.OutboxAsync()).Pending > 0,
                TimeSpan.FromSeconds(60),
                async () => $"{await OrdersDoneAsync(harness)} orders done, {(await harness.OutboxAsync()).Pending} outbox rows",
                $"life {life} to be under way with rows in A's outbox");
            a.Kill();
            var done = await OrdersDoneAsync(harness);
            var (pending, _) = await harness.OutboxAsync();
            Assert.True(done < UniqueOrders, $"life {life} was to be killed mid-stream but A had done all {UniqueOrders} orders");
            output.WriteLine($"life {life} killed with {pending} rows pending, {done} orders done, {await b.CountAsync()} notifications downstream");
        }

        // The last life drains everything; killed too, so that anything it left unacknowledged would come back.
        using (var last = await StartServiceAAsync(harness, invoices, dispatch: true))
        {
            await Eventually.Until(
                async () => await b.CountAsync() >= UniqueOrders && (await harness.OutboxAsync()).Pending == 0 && await harness.CountAsync(harness.Queue) == 0,
                TimeSpan.FromSeconds(90),
                async () => $"{await b.CountAsync()} notifications, {(await harness.OutboxAsync()).Pending} outbox rows, {await harness.CountAsync(harness.Queue)} orders waiting",
                "a notification per unique order, A's outbox and queue drained");
            last.Kill();
        }

        await Eventually.WaitAsync(async () => await harness.ConsumersAsync(harness.Queue) == 0, "the last A's consumer to be gone");
        await Eventually.WaitAsync(async () => await harness.CountAsync(invoices) == 0, "B to take every message of its queue");
        await b.StopAsync();
        output.WriteLine($"B's inbox: {b.Outcomes.Processed} processed, {b.Outcomes.Duplicates} deliveries skipped as already seen (sent again after a kill)");

        Assert.Equal(0u, await harness.CountAsync(harness.Queue));
        Assert.Equal(0u, await harness.CountAsync(invoices));
        Assert.Equal(0u, await harness.CountAsync(harness.DeadLetterQueue));
        Assert.True(await harness.CountAsync(b.DeadLetterQueue) == 0, $"B dead-lettered messages: {string.Join(" | ", b.Logs)}");
        Assert.Equal((0, 0), await harness.OutboxAsync());

        var effects = (await harness.InvoicesAsync()).GroupBy(i => i.MessageId).ToList();
        Assert.Equal(unique.Select(u => u.MessageId).Order(), effects.Select(g => g.Key).Order());
        Assert.All(effects, g => Assert.Single(g));

        var notifications = await b.NotificationsAsync();
        var twice = notifications.GroupBy(n => n.OrderId).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(twice.Count == 0, $"{twice.Count} orders have more than one notification in B, e.g. {string.Join(", ", twice.Take(3))}");
        Assert.Equal(unique.Select(u => u.OrderId).Order(), notifications.Select(n => n.OrderId).Order());
        Assert.Equal(notifications.Count, notifications.Select(n => n.MessageId).Distinct().Count());
        output.WriteLine($"{sends.Count} orders sent, {UniqueOrders} unique: {effects.Count} invoices in A, {notifications.Count} notifications in B");
    }

    private static Task<WorkerProcess> StartServiceAAsync(ConsumerHarness harness, string invoices, bool dispatch)
        => WorkerProcess.StartAsync(
            typeof(ConsumerWorker).Assembly, "chain-a", harness.Broker.ToString(), harness.ConnectionString, harness.Queue, HandlerDelayMs, invoices, dispatch.ToString());

    private static async Task<int> OrdersDoneAsync(ConsumerHarness harness)
    {
        await using var db = harness.NewDbContext();
        return await db.Invoices.CountAsync();
    }
}
