using Inbox.Benchmarks.Scenarios.Messaging;
using Inbox.RabbitMQ;

namespace Inbox.Benchmarks.Scenarios.RabbitMq;

/// <summary>
/// The outbox scenario's handler: the order row and one <see cref="OrderShipped"/> for the run's second queue through
/// the outbox (<c>context.Outbox.Send</c>), a row committed with the order's and sent by the dispatcher after the commit.
/// </summary>
public sealed class RabbitMqShippingHandler(BenchDbContext db, ShippingQueue shipping) : IRabbitMqInboxHandler<OrderPlaced>
{
    public Task HandleAsync(OrderPlaced message, RabbitMqMessageContext context, CancellationToken cancellationToken)
    {
        db.Orders.Add(new Order { MessageId = message.OrderKey, Amount = 10 });
        context.Outbox.Send(shipping.Queue, new OrderShipped(message.OrderKey), commitOrder: shipping.CommitOrder);
        return Task.CompletedTask;
    }
}

/// <summary>The run's second queue, where <see cref="RabbitMqShippingHandler"/> sends, and whether with commit order.</summary>
public sealed record ShippingQueue(string Queue, bool CommitOrder = false);
