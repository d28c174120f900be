using MassTransit;

namespace Inbox.Benchmarks.Scenarios.Messaging;

/// <summary>The batch baseline: one row per message, one SaveChanges per batch, no deduplication.</summary>
public sealed class RawOrderBatchConsumer(BenchDbContext db) : IConsumer<Batch<OrderPlaced>>
{
    public async Task Consume(ConsumeContext<Batch<OrderPlaced>> context)
    {
        db.Orders.AddRange(context.Message.Select(m => new Order { MessageId = m.Message.OrderKey, Amount = 10 }));
        await db.SaveChangesAsync(context.CancellationToken);
    }
}
