using MassTransit;

namespace Inbox.MassTransit.Tests.Support;

/// <summary>Writes one row per message to the scoped DbContext; the inbox saves and commits.</summary>
public sealed class ShipOrderConsumer(ShopDbContext db, Probe probe) : IConsumer<OrderPlaced>
{
    public Task Consume(ConsumeContext<OrderPlaced> context)
    {
        probe.Saw(context.Message);
        db.ShippedOrders.Add(new ShippedOrder { OrderId = context.Message.OrderId, Consumer = nameof(ShipOrderConsumer) });
        if (probe.Failure(context.Message) is { } failure)
        {
            throw failure;
        }

        return Task.CompletedTask;
    }
}

/// <summary>The batch form: one row per message of the batch.</summary>
public sealed class ShipOrderBatchConsumer(ShopDbContext db, Probe probe) : IConsumer<Batch<OrderPlaced>>
{
    public Task Consume(ConsumeContext<Batch<OrderPlaced>> context)
    {
        probe.BatchSizes.Enqueue(context.Message.Length);
        foreach (var item in context.Message)
        {
            probe.Saw(item.Message);
            db.ShippedOrders.Add(new ShippedOrder { OrderId = item.Message.OrderId, Consumer = nameof(ShipOrderBatchConsumer) });
        }

        return Task.CompletedTask;
    }
}

/// <summary>Ships the order and publishes OrderShipped; with x.AddInboxOutbox the publish goes through the outbox.</summary>
public sealed class ShipAndAnnounceConsumer(ShopDbContext db, Probe probe) : IConsumer<OrderPlaced>
{
    public async Task Consume(ConsumeContext<OrderPlaced> context)
    {
        probe.Saw(context.Message);
        db.ShippedOrders.Add(new ShippedOrder { OrderId = context.Message.OrderId, Consumer = nameof(ShipAndAnnounceConsumer) });
        await context.Publish(new OrderShipped(context.Message.OrderId));
        if (probe.Failure(context.Message) is { } failure)
        {
            throw failure;
        }
    }
}

/// <summary>The batch form of <see cref="ShipAndAnnounceConsumer"/>: ships and publishes OrderShipped for each message of the batch.</summary>
public sealed class ShipAndAnnounceBatchConsumer(ShopDbContext db, Probe probe) : IConsumer<Batch<OrderPlaced>>
{
    public async Task Consume(ConsumeContext<Batch<OrderPlaced>> context)
    {
        probe.BatchSizes.Enqueue(context.Message.Length);
        foreach (var item in context.Message)
        {
            probe.Saw(item.Message);
            db.ShippedOrders.Add(new ShippedOrder { OrderId = item.Message.OrderId, Consumer = nameof(ShipAndAnnounceBatchConsumer) });
            await context.Publish(new OrderShipped(item.Message.OrderId));
            if (probe.Failure(item.Message) is { } failure)
            {
                throw failure;
            }
        }
    }
}

/// <summary>Publishes through a service of its own that has IPublishEndpoint injected, as application code often does.</summary>
public sealed class ShipViaServiceConsumer(ShopDbContext db, Probe probe, ShippingAnnouncer announcer) : IConsumer<OrderPlaced>
{
    public async Task Consume(ConsumeContext<OrderPlaced> context)
    {
        probe.Saw(context.Message);
        db.ShippedOrders.Add(new ShippedOrder { OrderId = context.Message.OrderId, Consumer = nameof(ShipViaServiceConsumer) });
        await announcer.AnnounceAsync(context.Message.OrderId);
        if (probe.Failure(context.Message) is { } failure)
        {
            throw failure;
        }
    }
}

/// <summary>A scoped application service that publishes with the IPublishEndpoint it was given.</summary>
public sealed class ShippingAnnouncer(IPublishEndpoint publish)
{
    public Task AnnounceAsync(string orderId) => publish.Publish(new OrderShipped(orderId));
}

/// <summary>Sends to an address and responds, both through the outbox; throws after both on the attempts the probe says.</summary>
public sealed class QuoteConsumer(ShopDbContext db, Probe probe) : IConsumer<QuoteRequested>
{
    public async Task Consume(ConsumeContext<QuoteRequested> context)
    {
        var attempt = context.GetRetryAttempt() + 1;
        probe.Saw(new OrderPlaced(context.Message.OrderId));
        db.ShippedOrders.Add(new ShippedOrder { OrderId = context.Message.OrderId, Consumer = nameof(QuoteConsumer) });
        await context.Send(new Uri("queue:notifications"), new OrderShipped(context.Message.OrderId));
        await context.RespondAsync(new Quote(context.Message.OrderId, attempt));
        if (probe.Failure(new OrderPlaced(context.Message.OrderId)) is { } failure)
        {
            throw failure;
        }
    }
}

/// <summary>Downstream: one notification per OrderShipped, with the envelope's IDs.</summary>
public sealed class NotifyCustomerConsumer(ShopDbContext db, Probe probe) : IConsumer<OrderShipped>
{
    public Task Consume(ConsumeContext<OrderShipped> context)
    {
        probe.SawEvent(context.Message.OrderId);
        db.Notifications.Add(new Notification
        {
            OrderId = context.Message.OrderId,
            MessageId = context.MessageId,
            InitiatorId = context.InitiatorId,
            ConversationId = context.ConversationId,
        });
        return Task.CompletedTask;
    }
}
