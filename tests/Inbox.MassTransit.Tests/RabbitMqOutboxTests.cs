using System.Net;
using Inbox.MassTransit.Tests.Support;
using Inbox.TestSupport;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Inbox.MassTransit.Tests;

/// <summary>Publishes through the outbox on RabbitMQ and PostgreSQL: delivered after the commit, once per unique message.</summary>
public sealed class RabbitMqOutboxTests() : RabbitMqPostgresTests("inbox_mt_outbox")
{
    [Fact]
    public async Task Chain_2000OrdersWithTenPercentDuplicates_OneNotificationPerUniqueOrder_ErrorQueuesEmpty()
    {
        var orders = Broker.NewQueueName("ob-orders");
        var notifications = Broker.NewQueueName("ob-notify");
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
        await Eventually.WaitAsync(() => Metrics.Processed(orders) + Metrics.Duplicates(orders) == 2_000, "every order delivery to be settled", TimeSpan.FromSeconds(60));

        var perOrder = await host.QueryAsync(db => db.Notifications.GroupBy(n => n.OrderId).Select(g => new { g.Key, Count = g.Count() }).ToListAsync());
        Assert.Equal(1_800, perOrder.Count);
        Assert.All(perOrder, o => Assert.Equal(1, o.Count));
        Assert.Equal(200, Metrics.Duplicates(orders));
        Assert.Equal(0u, await Broker.CountAsync(orders + "_error"));
        Assert.Equal(0u, await Broker.CountAsync(notifications + "_error"));
        // A row is deleted once the broker confirms its publish, which can be after the consumer downstream has it.
        await Eventually.WaitAsync(async () => await host.OutboxCountAsync() == 0, "the outbox drained");
    }

    [Fact]
    public async Task BusOutbox_MinimalApiEndpoint_SaveChangesSendsThePublish_ARollbackOrNoSaveSendsNothing()
    {
        var notifications = Broker.NewQueueName("ob-api");
        await using var host = await OutboxChain.StartNotifierAsync(
            Database.ConnectionString,
            notifications,
            endpoints: app =>
            {
                // As an application's endpoints would be written: the scope's DbContext and IPublishEndpoint.
                app.MapPost("/orders/{id}/ship", async (string id, ShopDbContext db, IPublishEndpoint publish) =>
                {
                    db.ShippedOrders.Add(new ShippedOrder { OrderId = id, Consumer = "api" });
                    await publish.Publish(new OrderShipped(id));
                    await db.SaveChangesAsync();
                    return Results.Accepted();
                });
                app.MapPost("/orders/{id}/ship-then-roll-back", async (string id, ShopDbContext db, IPublishEndpoint publish) =>
                {
                    await using var transaction = await db.Database.BeginTransactionAsync();
                    db.ShippedOrders.Add(new ShippedOrder { OrderId = id, Consumer = "api" });
                    await publish.Publish(new OrderShipped(id));
                    await db.SaveChangesAsync();
                    await transaction.RollbackAsync();
                    return Results.Conflict();
                });
                app.MapPost("/orders/{id}/announce-without-saving", async (string id, IPublishEndpoint publish) =>
                {
                    await publish.Publish(new OrderShipped(id));
                    return Results.Accepted();
                });
            });

        // The ones that must send nothing go first: had they been published directly, they would reach the queue
        // before the saved ones and be consumed by the time the saved ones are.
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(HttpStatusCode.Conflict, (await host.Client.PostAsync($"/orders/rolled-back-{i}/ship-then-roll-back", null)).StatusCode);
            Assert.Equal(HttpStatusCode.Accepted, (await host.Client.PostAsync($"/orders/unsaved-{i}/announce-without-saving", null)).StatusCode);
        }

        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await host.Client.PostAsync($"/orders/saved-{i}/ship", null)).StatusCode);
        }

        await Eventually.WaitAsync(async () => await host.QueryAsync(db => db.Notifications.CountAsync()) >= 20, "20 notifications downstream");
        await Eventually.WaitAsync(async () => await host.OutboxCountAsync() == 0 && await Broker.CountAsync(notifications) == 0, "the outbox and the queue drained");
        await host.Services.GetRequiredService<IBusControl>().StopAsync();

        var notified = await host.QueryAsync(db => db.Notifications.Select(n => n.OrderId).ToListAsync());
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"saved-{i}").Order(), notified.Order());
        Assert.Equal(20, host.Probe.Events);
        Assert.Equal(20, await host.ShippedCountAsync());
    }

    [Fact]
    public async Task ARowSentAgain_AsAfterACrashBeforeItsDelete_CarriesTheSameMessageId_DownstreamSkipsIt()
    {
        var notifications = Broker.NewQueueName("ob-again");
        await using var host = await OutboxChain.StartNotifierAsync(Database.ConnectionString, notifications);

        // 100 events, and a second copy of every row in the same transaction: what a dispatcher that sent the rows
        // and died before deleting them leaves for the next one.
        await using (var scope = host.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<ShopDbContext>();
            await using var transaction = await db.Database.BeginTransactionAsync();
            var publish = scope.ServiceProvider.GetRequiredService<IPublishEndpoint>();
            for (var i = 0; i < 100; i++)
            {
                await publish.Publish(new OrderShipped($"again-{i}"));
            }

            await db.SaveChangesAsync();
            var copied = await db.Database.ExecuteSqlRawAsync(
                "INSERT INTO outbox_messages (message_id, transport, destination, partition_key, key_hash, body, headers, content_type, trace_parent, created_at, attempts) " +
                "SELECT message_id, transport, destination, partition_key, key_hash, body, headers, content_type, trace_parent, created_at, attempts FROM outbox_messages");
            Assert.Equal(100, copied);
            await transaction.CommitAsync();
        }

        await Eventually.WaitAsync(
            () => Metrics.Processed(notifications) + Metrics.Duplicates(notifications) == 200,
            $"both copies of every event delivered (processed {Metrics.Processed(notifications)}, duplicates {Metrics.Duplicates(notifications)})");
        await Eventually.WaitAsync(async () => await host.OutboxCountAsync() == 0, "the outbox drained");
        Assert.Equal(100, Metrics.Duplicates(notifications));
        Assert.Equal(100, host.Probe.Events);
        var perOrder = await host.QueryAsync(db => db.Notifications.GroupBy(n => n.OrderId).Select(g => g.Count()).ToListAsync());
        Assert.Equal(100, perOrder.Count);
        Assert.All(perOrder, count => Assert.Equal(1, count));
    }

    private Task<TestHost> CreateSut(string orders, string notifications)
        => TestHost.StartRabbitMqAsync(
            TestHost.Postgres(Database.ConnectionString),
            (context, cfg) =>
            {
                cfg.UseInbox(context);
                cfg.ReceiveEndpoint(orders, e => OutboxChain.ShipAndAnnounce(context, e));
                cfg.ReceiveEndpoint(notifications, e => OutboxChain.Notify(context, e));
            },
            registration: x =>
            {
                x.AddConsumer<ShipAndAnnounceConsumer>();
                x.AddConsumer<NotifyCustomerConsumer>();
                x.AddInboxOutbox<ShopDbContext>();
            });
}
