using MassTransit;

namespace Inbox.Benchmarks.Scenarios.Messaging;

/// <summary>The same batch write under <c>UseInbox</c>: the inbox records the IDs, saves and commits.</summary>
public sealed class InboxOrderBatchConsumer(BenchDbContext db) : IConsumer<Batch<OrderPlaced>>
{
    public Task Consume(ConsumeContext<Batch<OrderPlaced>> context)
    {
        db.Orders.AddRange(context.Message.Select(m => new Order { MessageId = m.Message.OrderKey, Amount = 10 }));
        return Task.CompletedTask;
    }
}
