using MassTransit;

namespace QuickStart;

/// <summary>Downstream of the outbox: one notification per OrderShipped event, inboxed like the first consumer.</summary>
public sealed class NotifyCustomerConsumer(ShopDbContext db) : IConsumer<OrderShipped>
{
    public Task Consume(ConsumeContext<OrderShipped> context)
    {
        db.Notifications.Add(new Notification { OrderId = context.Message.OrderId });
        return Task.CompletedTask;
    }
}
