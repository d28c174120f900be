using Inbox.MassTransit.Tests.Support;
using Inbox.TestSupport;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Inbox.MassTransit.Tests;

/// <summary>
/// <see cref="InboxOptions.OneRoundTrip"/> behind <c>UseInbox</c> on RabbitMQ, with the lookup only for redeliveries
/// (<see cref="InboxLookup.WhenRedelivered"/>): MassTransit passes on the broker's redelivered flag.
/// </summary>
public sealed class RabbitMqOneRoundTripTests() : RabbitMqPostgresTests("inbox_ort")
{
    [Fact]
    public async Task WhenRedelivered_TheBrokersRedeliveryIsLookedUpAndSkipped_AProducersCopyRunsItsHandlerAndRollsBack()
    {
        var queue = Broker.NewQueueName("ort");
        var id = Guid.NewGuid();

        // The first delivery is processed and committed.
        await using (var first = await CreateSut(queue))
        {
            await Broker.PublishOrderEnvelopeAsync(queue, id, DateTime.UtcNow, "first");
            await Eventually.WaitAsync(() => Metrics.Processed(queue) == 1, "the first delivery is processed");
        }

        // With no consumer on the queue: the same message handed back unacknowledged, as after a lost acknowledgement
        // (the broker marks it redelivered), then a copy the producer sent again (not marked), then a new message.
        await Broker.PublishOrderEnvelopeAsync(queue, id, DateTime.UtcNow, "redelivered");
        await Broker.RequeueFirstAsRedeliveredAsync(queue);
        await Broker.PublishOrderEnvelopeAsync(queue, id, DateTime.UtcNow, "copy");
        await Broker.PublishOrderEnvelopeAsync(queue, Guid.NewGuid(), DateTime.UtcNow, "new");

        await using var host = await CreateSut(queue);
        await Eventually.WaitAsync(
            () => Metrics.Processed(queue) == 2 && Metrics.Duplicates(queue) == 2,
            $"the new message is processed and both copies are duplicates (processed {Metrics.Processed(queue)}, duplicates {Metrics.Duplicates(queue)})");

        // The redelivery never reached the consumer; the copy did, and its row was rolled back with its inbox record.
        Assert.Equal(["copy", "new"], host.Probe.OrderIds.Order());
        var shipped = await host.QueryAsync(db => db.ShippedOrders.Select(o => o.OrderId).OrderBy(o => o).ToListAsync());
        Assert.Equal(["first", "new"], shipped);
        Assert.Equal(2, await host.InboxCountAsync());
        Assert.Equal(0u, await Broker.CountAsync(queue + "_error"));
        Assert.Equal(0u, await Broker.CountAsync(queue));
    }

    private Task<TestHost> CreateSut(string queue)
        => TestHost.StartRabbitMqAsync(
            TestHost.Postgres(Database.ConnectionString),
            (context, cfg) =>
            {
                cfg.UseInbox(context);
                cfg.ReceiveEndpoint(queue, e => e.ConfigureConsumer<ShipOrderConsumer>(context));
            },
            services => services.Configure<InboxOptions>(o =>
            {
                o.OneRoundTrip = true;
                o.OneRoundTripLookup = InboxLookup.WhenRedelivered;
            }));
}
