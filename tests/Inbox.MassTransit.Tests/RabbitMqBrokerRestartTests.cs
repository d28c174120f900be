using Inbox.MassTransit.Tests.Support;
using Inbox.TestSupport;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Inbox.MassTransit.Tests;

/// <summary>
/// A broker outage is nobody's bad input: with outbox rows pending and a RabbitMQ node of the test's own stopped, or
/// killed while the dispatcher is sending, every event is delivered once the node is back, and downstream takes each
/// effect once even where a send the broker had taken but not yet confirmed is sent again.
/// </summary>
public sealed class RabbitMqBrokerRestartTests(ITestOutputHelper output) : OwnRabbitMqNodeTests("inbox_mt_broker_restart")
{
    private const int Events = 3_000;
    private const string Notifications = "restart-notifications";

    [Fact]
    public async Task BrokerDownWithRowsPending_ThenKilledMidDispatch_EveryEventDeliveredOnceAfterItReturns()
    {
        await using var host = await OutboxChain.StartNotifierAsync(Database.ConnectionString, Notifications, Node.Uri);

        // The broker goes away first; the application keeps publishing through the bus outbox.
        await Node.StopAsync();
        foreach (var chunk in Enumerable.Range(0, Events).Chunk(100))
        {
            await using var scope = host.Services.CreateAsyncScope();
            var publish = scope.ServiceProvider.GetRequiredService<IPublishEndpoint>();
            foreach (var i in chunk)
            {
                await publish.Publish(new OrderShipped($"order-{i}"));
            }

            await scope.ServiceProvider.GetRequiredService<ShopDbContext>().SaveChangesAsync();
        }

        Assert.Equal(Events, await host.OutboxCountAsync());
        Assert.Equal(0, await host.QueryAsync(db => db.Notifications.CountAsync()));

        // Back, and killed again while the dispatcher is part way through the rows.
        await Node.StartAgainAsync();
        await Eventually.WaitAsync(async () => await host.OutboxCountAsync() < Events, "the dispatcher to send after the broker's return");
        await Node.KillAsync();
        var pendingAtKill = await host.OutboxCountAsync();
        output.WriteLine($"killed the node with {pendingAtKill} of {Events} rows still pending");
        Assert.True(pendingAtKill > 0, "the kill must come while rows are pending");

        // The bus and the dispatcher reconnect with back-off; on a busy two-core machine that has taken over two minutes
        // once, so the deadline is generous and a timeout says how far delivery got.
        await Node.StartAgainAsync();
        await Eventually.Until(
            async () => await host.QueryAsync(db => db.Notifications.CountAsync()) >= Events && await host.OutboxCountAsync() == 0,
            TimeSpan.FromSeconds(240),
            async () => $"{await host.QueryAsync(db => db.Notifications.CountAsync())} of {Events} notifications, {await host.OutboxCountAsync()} rows pending",
            "every event downstream and the outbox drained");
        await using var queues = await RabbitMqQueues.ConnectAsync(Node.Uri);
        await Eventually.WaitAsync(async () => await queues.CountAsync(Notifications) == 0, "the notifications queue drained");
        await host.Services.GetRequiredService<IBusControl>().StopAsync();

        var perOrder = await host.QueryAsync(db => db.Notifications.GroupBy(n => n.OrderId).Select(g => new { g.Key, Count = g.Count() }).ToListAsync());
        Assert.Equal(Events, perOrder.Count);
        Assert.All(perOrder, o => Assert.Equal(1, o.Count));
        Assert.Equal(0u, await queues.CountAsync(Notifications + "_error"));
        output.WriteLine($"{host.Probe.Events} deliveries downstream for {Events} events ({host.Probe.Events - Events} sent again after the kill and skipped by the inbox)");
        Assert.True(host.Probe.Events >= Events);
    }
}
