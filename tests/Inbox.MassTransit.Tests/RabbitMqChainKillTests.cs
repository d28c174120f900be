using Inbox.MassTransit.Tests.Support;
using Inbox.TestSupport;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Inbox.MassTransit.Tests;

/// <summary>
/// The chain across processes, on RabbitMQ and PostgreSQL: service A (<see cref="ChainWorker"/>, a process of its own)
/// ships each order and publishes OrderShipped through the outbox; service B (this process) writes one notification
/// per event, inboxed. A is killed with SIGKILL several times, with committed rows waiting and with rows on their way;
/// downstream must still see each unique order exactly once. The node is the test's own, so nothing else publishes
/// OrderShipped there and B hears A alone.
/// </summary>
public sealed class RabbitMqChainKillTests(ITestOutputHelper output) : OwnRabbitMqNodeTests("inbox_mt_chain")
{
    private const string Orders = "chain-orders";
    private const string Notifications = "chain-notifications";

    private string _mode = "insert-first";

    /// <param name="mode">
    /// "insert-first", the default unit of work, or "one-round-trip": <see cref="InboxOptions.OneRoundTrip"/> looked up only
    /// for redeliveries, whose implicit commit a kill can follow before the acknowledgement.
    /// </param>
    [Theory]
    [InlineData("insert-first")]
    [InlineData("one-round-trip")]
    public async Task Chain_20000OrdersTenPercentDuplicates_ServiceAKilledWithSigkillFourTimes_OneNotificationPerUniqueOrder(string mode)
    {
        _mode = mode;
        await using var b = await OutboxChain.StartNotifierAsync(Database.ConnectionString, Notifications, Node.Uri, outbox: false);

        var unique = Enumerable.Range(0, 18_000).Select(i => (OrderId: $"order-{i}", MessageId: NewId.NextGuid())).ToList();
        var sends = unique.Concat(unique.Where((_, i) => i % 9 == 0)).OrderBy(_ => Random.Shared.Next()).ToList();
        Assert.Equal(20_000, sends.Count);
        var endpoint = await b.Bus.GetSendEndpoint(new Uri($"queue:{Orders}"));
        foreach (var chunk in sends.Chunk(200))
        {
            await Task.WhenAll(chunk.Select(s => endpoint.Send(new OrderPlaced(s.OrderId), c => c.MessageId = s.MessageId)));
        }

        var kills = new List<string>();

        // First life: it commits orders and their outbox rows but sends nothing; killed with rows waiting.
        using (var a = await StartServiceAAsync(dispatch: false))
        {
            await Eventually.WaitAsync(async () => await b.OutboxCountAsync() >= 500, "committed rows waiting in the outbox", TimeSpan.FromSeconds(60));
            a.Kill();
            kills.Add($"killed with {await b.OutboxCountAsync()} committed rows unsent, {await b.ShippedCountAsync()} orders shipped");
        }

        // Three more lives, each killed mid-stream while rows it committed wait to be sent, or are on their way.
        for (var life = 0; life < 3; life++)
        {
            var before = await b.ShippedCountAsync();
            using var a = await StartServiceAAsync(dispatch: true);
            await Eventually.WaitAsync(
                async () => await b.ShippedCountAsync() >= Math.Min(unique.Count - 1, before + 3_000) && await b.OutboxCountAsync() > 0,
                "the next life to be under way with rows in flight",
                TimeSpan.FromSeconds(60));
            a.Kill();
            kills.Add($"killed with {await b.OutboxCountAsync()} rows pending, {await b.ShippedCountAsync()} orders shipped, " +
                $"{await b.QueryAsync(db => db.Notifications.CountAsync())} notifications downstream");
        }

        // The last life drains everything.
        using (var last = await StartServiceAAsync(dispatch: true))
        {
            await Eventually.WaitAsync(
                async () => await b.QueryAsync(db => db.Notifications.CountAsync()) >= unique.Count && await b.OutboxCountAsync() == 0,
                "a notification for every unique order and the outbox drained",
                TimeSpan.FromSeconds(180));
            await using var queues = await RabbitMqQueues.ConnectAsync(Node.Uri);
            await Eventually.WaitAsync(
                async () => await queues.CountAsync(Orders) == 0 && await queues.CountAsync(Notifications) == 0,
                "both queues drained");
            last.Kill();
            Assert.Equal(0u, await queues.CountAsync(Orders + "_error"));
            Assert.Equal(0u, await queues.CountAsync(Notifications + "_error"));
        }

        await b.Services.GetRequiredService<IBusControl>().StopAsync();
        kills.ForEach(output.WriteLine);
        output.WriteLine($"{b.Probe.Events} OrderShipped deliveries downstream for {unique.Count} unique orders");

        var shipped = await b.QueryAsync(db => db.ShippedOrders.GroupBy(o => o.OrderId).Select(g => new { g.Key, Count = g.Count() }).ToListAsync());
        Assert.Equal(unique.Count, shipped.Count);
        Assert.All(shipped, o => Assert.Equal(1, o.Count));
        var notified = await b.QueryAsync(db => db.Notifications.GroupBy(n => n.OrderId).Select(g => new { g.Key, Count = g.Count() }).ToListAsync());
        Assert.Equal(unique.Select(u => u.OrderId).Order(), notified.Select(n => n.Key).Order());
        Assert.All(notified, n => Assert.Equal(1, n.Count));
    }

    private Task<WorkerProcess> StartServiceAAsync(bool dispatch)
        => WorkerProcess.StartAsync(
            typeof(ChainWorker).Assembly,
            ["chain-a", Node.Uri.ToString(), Database.ConnectionString, Orders, dispatch.ToString(), .. _mode == "one-round-trip" ? new[] { _mode } : []]);
}
