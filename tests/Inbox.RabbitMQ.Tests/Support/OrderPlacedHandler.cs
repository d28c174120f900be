using System.Collections.Concurrent;

namespace Inbox.RabbitMQ.Tests.Support;

/// <summary>Writes one invoice per message it runs for; the probe counts its runs and makes it fail or wait on demand.</summary>
public sealed class OrderPlacedHandler(BillingDbContext db, HandlerProbe probe) : IRabbitMqInboxHandler<OrderPlaced>
{
    public async Task HandleAsync(OrderPlaced message, RabbitMqMessageContext context, CancellationToken cancellationToken)
    {
        probe.Runs.AddOrUpdate(context.MessageId, 1, static (_, n) => n + 1);
        probe.Order.Enqueue(context.MessageId);
        if (db.Database.CurrentTransaction is { } transaction)
        {
            probe.Transactions[context.MessageId] = transaction.TransactionId;
        }

        probe.Redelivered.AddOrUpdate(context.MessageId, context.Redelivered, (_, seen) => seen || context.Redelivered);
        if (probe.Gate is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken);
        }

        if (probe.Holds.TryGetValue(context.MessageId, out var hold))
        {
            await hold.Task.WaitAsync(cancellationToken);
        }

        if (probe.Delay > TimeSpan.Zero)
        {
            await Task.Delay(probe.Delay, cancellationToken);
        }

        if (probe.FailuresLeft.TryGetValue(context.MessageId, out var left) && left > 0)
        {
            probe.FailuresLeft[context.MessageId] = left - 1;
            throw new InvalidOperationException($"The handler fails for {context.MessageId} ({left} failures left).");
        }

        db.Invoices.Add(new Invoice { OrderId = message.OrderId, MessageId = context.MessageId });
        if (probe.InvoiceQueue is { } queue)
        {
            context.Outbox.Send(queue, new InvoiceCreated(message.OrderId));
        }
    }
}

/// <summary>What the handler did, for the test to assert on, and how it is to misbehave.</summary>
public sealed class HandlerProbe
{
    public ConcurrentDictionary<string, int> Runs { get; } = new();

    public ConcurrentDictionary<string, bool> Redelivered { get; } = new();

    /// <summary>The transaction each message ID's last run was in.</summary>
    public ConcurrentDictionary<string, Guid> Transactions { get; } = new();

    /// <summary>The message IDs in the order the handler started on them.</summary>
    public ConcurrentQueue<string> Order { get; } = new();

    /// <summary>How many more times the handler throws for a message ID (int.MaxValue: always).</summary>
    public ConcurrentDictionary<string, int> FailuresLeft { get; } = new();

    public TimeSpan Delay { get; set; }

    /// <summary>When set, every run sends an <see cref="InvoiceCreated"/> to this queue through the outbox.</summary>
    public string? InvoiceQueue { get; set; }

    /// <summary>Runs for these message IDs wait for their task.</summary>
    public ConcurrentDictionary<string, TaskCompletionSource> Holds { get; } = new();

    /// <summary>When set, every run waits for it.</summary>
    public TaskCompletionSource? Gate { get; set; }
}
