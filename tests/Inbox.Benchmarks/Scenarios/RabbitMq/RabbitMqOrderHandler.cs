using Inbox.Benchmarks.Scenarios.Messaging;
using Inbox.RabbitMQ;

namespace Inbox.Benchmarks.Scenarios.RabbitMq;

/// <summary>The business write of <see cref="RawRabbitMqConsumer"/> under Inbox.RabbitMQ: no SaveChanges, the inbox saves and commits.</summary>
public sealed class RabbitMqOrderHandler(BenchDbContext db) : IRabbitMqInboxHandler<OrderPlaced>
{
    public Task HandleAsync(OrderPlaced message, RabbitMqMessageContext context, CancellationToken cancellationToken)
    {
        db.Orders.Add(new Order { MessageId = message.OrderKey, Amount = 10 });
        return Task.CompletedTask;
    }
}
