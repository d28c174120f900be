using MassTransit;

namespace Inbox.Benchmarks.Scenarios.Messaging;

/// <summary>The same business write under <c>UseInbox</c>: no SaveChanges, the inbox saves and commits.</summary>
public sealed class InboxOrderConsumer(BenchDbContext db) : IConsumer<OrderPlaced>
{
    public Task Consume(ConsumeContext<OrderPlaced> context)
    {
        db.Orders.Add(new Order { MessageId = context.Message.OrderKey, Amount = 10 });
        return Task.CompletedTask;
    }
}
