using MassTransit;

namespace Inbox.Benchmarks.Scenarios.Messaging;

/// <summary>The baseline of the outbox scenario: the business write, its own SaveChanges, then a direct publish.</summary>
public sealed class RawPublishingConsumer(BenchDbContext db) : IConsumer<OrderPlaced>
{
    public async Task Consume(ConsumeContext<OrderPlaced> context)
    {
        db.Orders.Add(new Order { MessageId = context.Message.OrderKey, Amount = 10 });
        await db.SaveChangesAsync(context.CancellationToken);
        await context.Publish(new OrderShipped(context.Message.OrderKey), context.CancellationToken);
    }
}

/// <summary>The same under <c>UseInbox</c> with the outbox: the publish is a row committed with the write.</summary>
public sealed class InboxPublishingConsumer(BenchDbContext db) : IConsumer<OrderPlaced>
{
    public Task Consume(ConsumeContext<OrderPlaced> context)
    {
        db.Orders.Add(new Order { MessageId = context.Message.OrderKey, Amount = 10 });
        return context.Publish(new OrderShipped(context.Message.OrderKey), context.CancellationToken);
    }
}
