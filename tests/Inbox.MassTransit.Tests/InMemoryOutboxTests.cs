using Inbox.MassTransit.Tests.Support;
using Inbox.TestSupport;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Inbox.MassTransit.Tests;

/// <summary>
/// Publishes from inboxed consumers through the outbox, on the in-memory transport and SQLite: a consumer A ships each
/// order and publishes OrderShipped; a consumer B (inboxed too) writes a notification per event.
/// </summary>
public sealed class InMemoryOutboxTests : IDisposable
{
    private static readonly Uri Orders = new("queue:orders");
    private readonly SqliteDatabase _database = new();

    public void Dispose() => _database.Dispose();

    [Fact]
    public async Task Chain_OrdersWithDuplicateMessageIds_OneNotificationPerUniqueOrder_WithTheEnvelopeMassTransitWouldSet()
    {
        await using var host = await CreateSut();
        var sends = Enumerable.Range(0, 100).Select(i => (OrderId: $"order-{i}", MessageId: NewId.NextGuid(), CorrelationId: NewId.NextGuid())).ToList();
        sends.AddRange(sends.Take(10));
        var endpoint = await host.Bus.GetSendEndpoint(Orders);

        foreach (var (orderId, messageId, correlationId) in sends)
        {
            await endpoint.Send(new OrderPlaced(orderId), c =>
            {
                c.MessageId = messageId;
                c.CorrelationId = correlationId;
            });
        }

        await Eventually.WaitAsync(async () => await host.QueryAsync(db => db.Notifications.CountAsync()) >= 100, "100 notifications downstream");
        // A row is deleted once its send is acknowledged, which can be after the consumer downstream has it.
        await Eventually.WaitAsync(async () => await host.OutboxCountAsync() == 0, "the outbox drained");
        await host.Services.GetRequiredService<IBusControl>().StopAsync();

        var notifications = await host.QueryAsync(db => db.Notifications.ToListAsync());
        Assert.Equal(100, notifications.Count);
        Assert.Equal(100, notifications.Select(n => n.OrderId).Distinct().Count());
        // As MassTransit sets it without an outbox: the initiator is the consumed message's CorrelationId.
        var correlations = sends.Take(100).ToDictionary(s => s.OrderId, s => s.CorrelationId);
        Assert.All(notifications, n =>
        {
            Assert.Equal(correlations[n.OrderId], n.InitiatorId);
            Assert.NotNull(n.ConversationId);
        });
        Assert.Equal(100, host.Probe.Events);
        Assert.Equal(0, await host.OutboxCountAsync());
    }

    [Fact]
    public async Task ConsumerPublishesThenThrows_NothingLeavesForTheFailedAttempt_TheRetryPublishesOnce()
    {
        await using var host = await CreateSut(retry: true);
        var attempts = 0;
        host.Probe.Failure = _ => Interlocked.Increment(ref attempts) == 1 ? new InvalidOperationException("fails after publishing") : null;

        await host.Bus.SendOrderAsync(Orders, "order-1", NewId.NextGuid());

        await Eventually.WaitAsync(async () => await host.QueryAsync(db => db.Notifications.CountAsync()) == 1, "the retry's event downstream");
        await host.Services.GetRequiredService<IBusControl>().StopAsync();
        Assert.Equal(2, attempts);
        Assert.Equal(1, host.Probe.Events);
        Assert.Equal(1, await host.ShippedCountAsync());
    }

    [Fact]
    public async Task PublishEndpointInjectedIntoTheConsumersService_IsHeldToo_TheRetryPublishesOnce()
    {
        await using var host = await TestHost.StartAsync(
            TestHost.Sqlite(_database.ConnectionString),
            x =>
            {
                x.AddConsumer<ShipViaServiceConsumer>();
                x.AddConsumer<NotifyCustomerConsumer>();
                x.AddInboxOutbox<ShopDbContext>();
                x.UsingInMemory((context, cfg) =>
                {
                    cfg.UseMessageRetry(r => r.Immediate(2));
                    cfg.UseInbox(context);
                    cfg.ReceiveEndpoint("orders", e => e.ConfigureConsumer<ShipViaServiceConsumer>(context));
                    cfg.ReceiveEndpoint("notifications", e => e.ConfigureConsumer<NotifyCustomerConsumer>(context));
                });
            },
            services => services.AddScoped<ShippingAnnouncer>());
        var attempts = 0;
        host.Probe.Failure = _ => Interlocked.Increment(ref attempts) == 1 ? new InvalidOperationException("fails after publishing") : null;
        var messageId = NewId.NextGuid();
        var correlationId = NewId.NextGuid();

        await (await host.Bus.GetSendEndpoint(Orders)).Send(new OrderPlaced("order-1"), c =>
        {
            c.MessageId = messageId;
            c.CorrelationId = correlationId;
        });
        await host.Bus.SendOrderAsync(Orders, "order-1", messageId);

        await Eventually.WaitAsync(async () => await host.QueryAsync(db => db.Notifications.CountAsync()) == 1, "the retry's event downstream");
        await Eventually.WaitAsync(async () => await host.OutboxCountAsync() == 0, "the outbox drained");
        await host.Services.GetRequiredService<IBusControl>().StopAsync();
        Assert.Equal(2, attempts);
        Assert.Equal(1, host.Probe.Events);
        var notification = await host.QueryAsync(db => db.Notifications.SingleAsync());
        Assert.Equal(correlationId, notification.InitiatorId);
    }

    [Fact]
    public async Task SendToAnAddressAndRespond_ThenThrow_OnlyTheRetrysSendAndResponseLeave()
    {
        await using var host = await TestHost.StartAsync(
            TestHost.Sqlite(_database.ConnectionString),
            x =>
            {
                x.AddConsumer<QuoteConsumer>();
                x.AddConsumer<NotifyCustomerConsumer>();
                x.AddRequestClient<QuoteRequested>(new Uri("queue:quotes"));
                x.AddInboxOutbox<ShopDbContext>();
                x.UsingInMemory((context, cfg) =>
                {
                    cfg.UseMessageRetry(r => r.Immediate(2));
                    cfg.UseInbox(context);
                    cfg.ReceiveEndpoint("quotes", e => e.ConfigureConsumer<QuoteConsumer>(context));
                    cfg.ReceiveEndpoint("notifications", e => e.ConfigureConsumer<NotifyCustomerConsumer>(context));
                });
            });
        var attempts = 0;
        host.Probe.Failure = _ => Interlocked.Increment(ref attempts) == 1 ? new InvalidOperationException("fails after sending and responding") : null;

        await using var scope = host.Services.CreateAsyncScope();
        var response = await scope.ServiceProvider.GetRequiredService<IRequestClient<QuoteRequested>>().GetResponse<Quote>(new QuoteRequested("order-1"));

        // Without the outbox the first attempt's response would already have answered the request.
        Assert.Equal(2, response.Message.Attempt);
        await Eventually.WaitAsync(async () => await host.QueryAsync(db => db.Notifications.CountAsync()) == 1, "the retry's send downstream");
        await Eventually.WaitAsync(async () => await host.OutboxCountAsync() == 0, "the outbox drained");
        await host.Services.GetRequiredService<IBusControl>().StopAsync();
        Assert.Equal(2, attempts);
        Assert.Equal(1, host.Probe.Events);
        Assert.Equal(1, await host.ShippedCountAsync());
    }

    [Fact]
    public async Task BusOutbox_PublishOutsideAConsumer_LeavesWithSaveChanges_NotWithoutIt_NorWithARollback()
    {
        await using var host = await CreateSut();

        // As an HTTP endpoint would: a scope, its DbContext and its IPublishEndpoint.
        await using (var scope = host.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<ShopDbContext>();
            db.ShippedOrders.Add(new ShippedOrder { OrderId = "saved", Consumer = "http" });
            await scope.ServiceProvider.GetRequiredService<IPublishEndpoint>().Publish(new OrderShipped("saved"));
            Assert.Equal(0, await host.QueryAsync(d => d.Notifications.CountAsync()));
            await db.SaveChangesAsync();
        }

        await using (var scope = host.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<IPublishEndpoint>().Publish(new OrderShipped("never saved"));
        }

        await using (var scope = host.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<ShopDbContext>();
            await using var transaction = await db.Database.BeginTransactionAsync();
            var endpoint = await scope.ServiceProvider.GetRequiredService<ISendEndpointProvider>().GetSendEndpoint(new Uri("queue:notifications"));
            await endpoint.Send(new OrderShipped("rolled back"));
            await db.SaveChangesAsync();
            await transaction.RollbackAsync();
        }

        await Eventually.WaitAsync(async () => await host.QueryAsync(db => db.Notifications.CountAsync()) == 1, "the saved event downstream");
        await Eventually.WaitAsync(async () => await host.OutboxCountAsync() == 0, "the outbox drained");
        await host.Services.GetRequiredService<IBusControl>().StopAsync();
        Assert.Equal(["saved"], await host.QueryAsync(db => db.Notifications.Select(n => n.OrderId).ToListAsync()));
        Assert.Equal(1, host.Probe.Events);
        Assert.Equal(0, await host.OutboxCountAsync());
    }

    [Fact]
    public async Task BusOutbox_WhatOneScopeSendsToADestination_LeavesInTheOrderItWasWritten()
    {
        await using var host = await CreateSut(oneAtATime: true);
        var expected = Enumerable.Range(0, 200).Select(i => $"step-{i:D3}").ToList();
        await using (var scope = host.Services.CreateAsyncScope())
        {
            var publish = scope.ServiceProvider.GetRequiredService<IPublishEndpoint>();
            foreach (var step in expected)
            {
                await publish.Publish(new OrderShipped(step));
            }

            await scope.ServiceProvider.GetRequiredService<ShopDbContext>().SaveChangesAsync();
        }

        await Eventually.WaitAsync(() => host.Probe.Events == expected.Count, "every event downstream");
        Assert.Equal(expected, host.Probe.EventOrderIds);
    }

    private Task<TestHost> CreateSut(bool retry = false, bool oneAtATime = false)
        => TestHost.StartAsync(
            TestHost.Sqlite(_database.ConnectionString),
            x =>
            {
                x.AddConsumer<ShipAndAnnounceConsumer>();
                x.AddConsumer<NotifyCustomerConsumer>();
                x.AddInboxOutbox<ShopDbContext>(o => o.PollInterval = TimeSpan.FromSeconds(30));
                x.UsingInMemory((context, cfg) =>
                {
                    if (retry)
                    {
                        cfg.UseMessageRetry(r => r.Immediate(2));
                    }

                    cfg.UseInbox(context);
                    cfg.ReceiveEndpoint("orders", e => e.ConfigureConsumer<ShipAndAnnounceConsumer>(context));
                    cfg.ReceiveEndpoint("notifications", e =>
                    {
                        if (oneAtATime)
                        {
                            e.ConcurrentMessageLimit = 1;
                        }

                        e.ConfigureConsumer<NotifyCustomerConsumer>(context);
                    });
                });
            });
}
