using MassTransit;

namespace MassTransitWorker;

/// <summary>Writes to the scoped DbContext; the inbox filter records the message ID, saves and commits.</summary>
public sealed class ShipOrderConsumer(ShopDbContext db, TimeProvider time) : IConsumer<OrderPlaced>
{
    public Task Consume(ConsumeContext<OrderPlaced> context)
    {
        db.Shipments.Add(new Shipment { OrderId = context.Message.OrderId, ShippedAt = time.GetUtcNow() });
        return Task.CompletedTask;
    }
}
