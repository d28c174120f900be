using Inbox.MassTransit.Tests.Support;
using Inbox.Testing;
using MassTransit;
using Microsoft.EntityFrameworkCore;

namespace Inbox.MassTransit.Tests;

/// <summary>Publishes through the outbox on RabbitMQ and PostgreSQL: delivered after the commit, once per unique message.</summary>
public sealed class RabbitMqOutboxTests : IAsyncLifetime
{
    private readonly InboxMetrics _metrics = new();
    private PostgresDatabase _database = null!;
    private RabbitMqQueues _broker = null!;

    public async Task InitializeAsync()
    {
        _database = await PostgresDatabase.CreateAsync("inbox_mt_outbox");
        _broker = await RabbitMqQueues.ConnectAsync();
    }

    public async Task DisposeAsync()
    {
        _metrics.Dispose();
        await _broker.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Chain_2000OrdersWithTenPercentDuplicates_OneNotificationPerUniqueOrder_ErrorQueuesEmpty()
    {
        var orders = _broker.NewQueueName("ob-orders");
        var notifications = _broker.NewQueueName("ob-notify");
        await using var host = await CreateSut(orders, notifications);
        var ids = Enumerable.Range(0, 1_800).Select(i => (OrderId: $"order-{i}", MessageId: NewId.NextGuid())).ToList();
        var sends = ids.Concat(ids.Take(200)).ToList();
        var endpoint = await host.Bus.GetSendEndpoint(new Uri($"queue:{orders}"));

        foreach (var chunk in sends.Chunk(100))
        {
            await Task.WhenAll(chunk.Select(s => endpoint.Send(new OrderPlaced(s.OrderId), c => c.MessageId = s.MessageId)));
        }

        await Eventually.WaitAsync(
            async () => await host.QueryAsync(db => db.Notifications.CountAsync()) >= 1_800,
            "1,800 notifications downstream",
            TimeSpan.FromSeconds(120));
        await Eventually.WaitAsync(() => _metrics.Processed(orders) + _metrics.Duplicates(orders) == 2_000, "every order delivery to be settled", TimeSpan.FromSeconds(60));

        var perOrder = await host.QueryAsync(db => db.Notifications.GroupBy(n => n.OrderId).Select(g => new { g.Key, Count = g.Count() }).ToListAsync());
        Assert.Equal(1_800, perOrder.Count);
        Assert.All(perOrder, o => Assert.Equal(1, o.Count));
        Assert.Equal(200, _metrics.Duplicates(orders));
        Assert.Equal(0u, await _broker.CountAsync(orders + "_error"));
        Assert.Equal(0u, await _broker.CountAsync(notifications + "_error"));
        // A row is deleted once the broker confirms its publish, which can be after the consumer downstream has it.
        await Eventually.WaitAsync(async () => await host.OutboxCountAsync() == 0, "the outbox drained");
    }

    private Task<TestHost> CreateSut(string orders, string notifications)
        => TestHost.StartRabbitMqAsync(
            TestHost.Postgres(_database.ConnectionString),
            (context, cfg) =>
            {
                cfg.UseInbox(context);
                cfg.ReceiveEndpoint(orders, e =>
                {
                    e.PrefetchCount = 32;
                    e.ConcurrentMessageLimit = 8;
                    e.ConfigureConsumer<ShipAndAnnounceConsumer>(context);
                });
                cfg.ReceiveEndpoint(notifications, e => e.ConfigureConsumer<NotifyCustomerConsumer>(context));
            },
            registration: x =>
            {
                x.AddConsumer<ShipAndAnnounceConsumer>();
                x.AddConsumer<NotifyCustomerConsumer>();
                x.AddInboxOutbox<ShopDbContext>();
            });
}
