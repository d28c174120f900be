using Inbox.RabbitMQ;

namespace RabbitMqWorker;

/// <summary>
/// Writes a shipment and sends OrderShipped through the outbox, without saving: the inbox saves and commits both with
/// the message's inbox record, then acknowledges the delivery; the dispatcher publishes OrderShipped after the commit.
/// </summary>
public sealed class ShipOrderHandler(ShopDbContext db, TimeProvider time) : IRabbitMqInboxHandler<OrderPlaced>
{
    public Task HandleAsync(OrderPlaced message, RabbitMqMessageContext context, CancellationToken cancellationToken)
    {
        db.Shipments.Add(new Shipment { OrderId = message.OrderId, ShippedAt = time.GetUtcNow() });
        context.Outbox.Send("orders-shipped", new OrderShipped(message.OrderId));
        return Task.CompletedTask;
    }
}
