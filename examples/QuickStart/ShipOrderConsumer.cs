using MassTransit;

namespace QuickStart;

/// <summary>
/// An ordinary consumer: it writes to the scoped DbContext and returns. The inbox filter around it records the
/// message ID, saves and commits in one transaction, and skips the consumer for an ID it has seen.
/// </summary>
public sealed class ShipOrderConsumer(ShopDbContext db) : IConsumer<OrderPlaced>
{
    public Task Consume(ConsumeContext<OrderPlaced> context)
    {
        db.Shipments.Add(new Shipment { OrderId = context.Message.OrderId });
        return Task.CompletedTask;
    }
}
