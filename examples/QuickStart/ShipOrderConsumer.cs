using MassTransit;

namespace QuickStart;

/// <summary>
/// An ordinary consumer: it writes to the scoped DbContext, publishes an event and returns. The inbox filter around it
/// records the message ID and saves and commits in one transaction; the event is an outbox row in that transaction,
/// sent once it commits. For an ID it has seen, the consumer is skipped: no second shipment, no second event.
/// </summary>
public sealed class ShipOrderConsumer(ShopDbContext db) : IConsumer<OrderPlaced>
{
    public Task Consume(ConsumeContext<OrderPlaced> context)
    {
        db.Shipments.Add(new Shipment { OrderId = context.Message.OrderId });
        return context.Publish(new OrderShipped(context.Message.OrderId));
    }
}
