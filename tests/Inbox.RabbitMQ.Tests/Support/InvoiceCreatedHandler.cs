namespace Inbox.RabbitMQ.Tests.Support;

/// <summary>Service B's handler in the chain: one notification per invoice message it runs for.</summary>
public sealed class InvoiceCreatedHandler(NotificationsDbContext db) : IRabbitMqInboxHandler<InvoiceCreated>
{
    public Task HandleAsync(InvoiceCreated message, RabbitMqMessageContext context, CancellationToken cancellationToken)
    {
        db.Notifications.Add(new Notification { OrderId = message.OrderId, MessageId = context.MessageId });
        return Task.CompletedTask;
    }
}
