using Inbox.MassTransit.Tests.Support;
using Inbox.TestSupport;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Inbox.MassTransit.Tests;

/// <summary>Batch consumers (IConsumer&lt;Batch&lt;T&gt;&gt;): one transaction per batch, duplicates removed before the consumer sees it.</summary>
public sealed class BatchInboxTests : IDisposable
{
    private readonly SqliteDatabase _database = new();
    private readonly InboxMetrics _metrics = new();

    public void Dispose()
    {
        _metrics.Dispose();
        _database.Dispose();
    }

    [Fact]
    public async Task BatchConsumer_DuplicatesInsideAndAcrossBatches_ConsumerSeesEachIdOnce()
    {
        const string queue = "batch-orders";
        await using var host = await CreateSut(queue);
        var endpoint = await host.Bus.GetSendEndpoint(new Uri($"queue:{queue}"));
        var first = Enumerable.Range(0, 5).Select(i => ($"order-{i}", NewId.NextGuid())).ToList();
        var later = Enumerable.Range(5, 5).Select(i => ($"order-{i}", NewId.NextGuid())).ToList();

        // Each ID twice in a row, so both copies arrive while one batch is open. MassTransit 8.5's batcher itself keeps
        // only the first message of each MessageId in an open batch, so these copies never reach the consumer.
        await Task.WhenAll(first.SelectMany(o => new[] { o, o }).Select(o => endpoint.Send(new OrderPlaced(o.Item1), c => c.MessageId = o.Item2)));
        await Eventually.WaitAsync(() => _metrics.Processed(queue) == 5, "the first five IDs are processed");

        // The first IDs again, mixed with new ones: duplicates of an earlier, committed batch, which only the inbox can see.
        await Task.WhenAll(first.Concat(later).Select(o => endpoint.Send(new OrderPlaced(o.Item1), c => c.MessageId = o.Item2)));
        await Eventually.WaitAsync(
            () => _metrics.Processed(queue) == 10 && _metrics.Duplicates(queue) == 5,
            $"the new IDs are processed and the old ones skipped (processed {_metrics.Processed(queue)}, duplicates {_metrics.Duplicates(queue)})");

        Assert.Equal(10, host.Probe.Calls);
        Assert.Equal(10, host.Probe.OrderIds.Distinct().Count());
        Assert.Contains(host.Probe.BatchSizes, size => size > 1);
        var perOrder = await host.QueryAsync(db => db.ShippedOrders.GroupBy(o => o.OrderId).Select(g => g.Count()).ToListAsync());
        Assert.Equal(10, perOrder.Count);
        Assert.All(perOrder, count => Assert.Equal(1, count));
        Assert.Equal(10, await host.InboxCountAsync());
    }

    [Fact]
    public async Task BatchConsumerPublishing_OnceForEachCommittedBatch_NothingForDuplicates_NorForAFailedAttempt()
    {
        const string queue = "batch-announce";
        await using var host = await TestHost.StartAsync(
            TestHost.Sqlite(_database.ConnectionString),
            x =>
            {
                x.AddConsumer<ShipAndAnnounceBatchConsumer>(c =>
                {
                    c.Options<BatchOptions>(o => o.SetMessageLimit(10).SetTimeLimit(TimeSpan.FromMilliseconds(300)).SetConcurrencyLimit(1));
                    c.UseMessageRetry(r => r.Immediate(2));
                });
                x.AddConsumer<NotifyCustomerConsumer>();
                x.AddInboxOutbox<ShopDbContext>();
                x.UsingInMemory((context, cfg) =>
                {
                    cfg.UseInbox(context);
                    cfg.ReceiveEndpoint(queue, e =>
                    {
                        e.PrefetchCount = 20;
                        e.ConfigureConsumer<ShipAndAnnounceBatchConsumer>(context);
                    });
                    cfg.ReceiveEndpoint("batch-notifications", e => e.ConfigureConsumer<NotifyCustomerConsumer>(context));
                });
            });
        var attempts = 0;
        // The batch holding order-7 publishes a few events and then throws, once; its retry must be the only one heard.
        host.Probe.Failure = m => m.OrderId == "order-7" && Interlocked.Increment(ref attempts) == 1 ? new InvalidOperationException("fails after publishing") : null;
        var endpoint = await host.Bus.GetSendEndpoint(new Uri($"queue:{queue}"));
        var first = Enumerable.Range(0, 5).Select(i => ($"order-{i}", NewId.NextGuid())).ToList();
        var later = Enumerable.Range(5, 5).Select(i => ($"order-{i}", NewId.NextGuid())).ToList();

        await Task.WhenAll(first.Select(o => endpoint.Send(new OrderPlaced(o.Item1), c => c.MessageId = o.Item2)));
        await Eventually.WaitAsync(() => _metrics.Processed(queue) == 5, "the first five IDs are processed");
        // Duplicates of the committed first batch, mixed with new IDs.
        await Task.WhenAll(first.Concat(later).Select(o => endpoint.Send(new OrderPlaced(o.Item1), c => c.MessageId = o.Item2)));
        await Eventually.WaitAsync(
            () => _metrics.Processed(queue) == 10 && _metrics.Duplicates(queue) == 5,
            $"the new IDs are processed and the old ones skipped (processed {_metrics.Processed(queue)}, duplicates {_metrics.Duplicates(queue)})");
        await Eventually.WaitAsync(async () => await host.QueryAsync(db => db.Notifications.CountAsync()) >= 10, "ten notifications downstream");
        await Eventually.WaitAsync(async () => await host.OutboxCountAsync() == 0, "the outbox drained");
        await host.Services.GetRequiredService<IBusControl>().StopAsync();

        Assert.Equal(2, attempts);
        Assert.Equal(10, host.Probe.Events);
        var notified = await host.QueryAsync(db => db.Notifications.Select(n => n.OrderId).ToListAsync());
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"order-{i}").Order(), notified.Order());
        Assert.Equal(10, await host.ShippedCountAsync());
    }

    private Task<TestHost> CreateSut(string queue)
        => TestHost.StartAsync(
            TestHost.Sqlite(_database.ConnectionString),
            x =>
            {
                x.AddConsumer<ShipOrderBatchConsumer>(c => c.Options<BatchOptions>(o => o
                    .SetMessageLimit(10)
                    .SetTimeLimit(TimeSpan.FromMilliseconds(300))
                    .SetConcurrencyLimit(1)));
                x.UsingInMemory((context, cfg) =>
                {
                    cfg.UseInbox(context);
                    cfg.ReceiveEndpoint(queue, e =>
                    {
                        e.PrefetchCount = 20;
                        e.ConfigureConsumer<ShipOrderBatchConsumer>(context);
                    });
                });
            });
}
