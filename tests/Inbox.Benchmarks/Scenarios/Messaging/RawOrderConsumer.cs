using MassTransit;

namespace Inbox.Benchmarks.Scenarios.Messaging;

/// <summary>The baseline: the business write and its own SaveChanges, no deduplication.</summary>
public sealed class RawOrderConsumer(BenchDbContext db) : IConsumer<OrderPlaced>
{
    public async Task Consume(ConsumeContext<OrderPlaced> context)
    {
        db.Orders.Add(new Order { MessageId = context.Message.OrderKey, Amount = 10 });
        await db.SaveChangesAsync(context.CancellationToken);
    }
}
