using Microsoft.EntityFrameworkCore;

namespace Inbox.Kafka.Tests.Infrastructure;

public sealed class TestDbContext(DbContextOptions<TestDbContext> options) : DbContext(options)
{
    public DbSet<Effect> Effects => Set<Effect>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.AddInbox();
        modelBuilder.AddInboxKafkaOffsets();
        modelBuilder.AddOutbox();
        modelBuilder.Entity<Invoice>(e =>
        {
            e.ToTable("invoices");
            e.HasKey(x => x.Id);
        });
        modelBuilder.Entity<Effect>(e =>
        {
            e.ToTable("effects");
            e.HasKey(x => x.Id);
        });
    }
}

/// <summary>The business write of one handled message.</summary>
public sealed class Effect
{
    public long Id { get; set; }

    public string MessageId { get; set; } = "";

    public string Key { get; set; } = "";

    public int Sequence { get; set; }

    public int Partition { get; set; }

    public long Offset { get; set; }
}

public sealed record OrderPlaced(string Key, int Sequence, bool Poison = false);

/// <summary>What the first service of a chain sends on for each order, through its outbox.</summary>
public sealed record InvoiceCreated(string OrderMessageId, string Key, int Sequence);

/// <summary>The business write of the second service of a chain: one per invoice it received.</summary>
public sealed class Invoice
{
    public long Id { get; set; }

    public string MessageId { get; set; } = "";

    public string OrderMessageId { get; set; } = "";

    public string Key { get; set; } = "";

    public int Sequence { get; set; }
}

/// <summary>The second service: records each invoice once.</summary>
public sealed class InvoiceCreatedHandler(TestDbContext db) : IInboxHandler<InvoiceCreated>
{
    public Task HandleAsync(InvoiceCreated message, InboxMessageContext context, CancellationToken cancellationToken)
    {
        db.Add(new Invoice { MessageId = context.MessageId, OrderMessageId = message.OrderMessageId, Key = message.Key, Sequence = message.Sequence });
        return Task.CompletedTask;
    }
}

/// <summary>What the handlers of one host did, for the tests to look at.</summary>
public sealed class HandlerProbe
{
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    /// <summary>Gets or sets how long each message takes, to keep a stream in flight while the group changes.</summary>
    public TimeSpan Delay { get; set; }

    /// <summary>Gets or sets whether every call fails, as a handler with a bug (fixed later) would.</summary>
    public bool Broken { get; set; }

    /// <summary>Gets or sets the topic the handler sends an invoice to through the outbox, for each new order; none when null.</summary>
    public string? InvoiceTopic { get; set; }

    /// <summary>Gets or sets a task every call awaits, whatever its cancellation token says, once it has said so in <see cref="Held"/>.</summary>
    public Task? Hold { get; set; }

    /// <summary>Completes when a call waits on <see cref="Hold"/>.</summary>
    public TaskCompletionSource Held { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when a call that waited on <see cref="Hold"/> returns.</summary>
    public TaskCompletionSource Released { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Called() => Interlocked.Increment(ref _calls);
}

public sealed class OrderPlacedHandler(TestDbContext db, HandlerProbe probe) : IInboxHandler<OrderPlaced>
{
    public async Task HandleAsync(OrderPlaced message, InboxMessageContext context, CancellationToken cancellationToken)
    {
        probe.Called();
        if (probe.Hold is { } hold)
        {
            probe.Held.TrySetResult();
            await hold;
            probe.Released.TrySetResult();
        }

        if (probe.Delay > TimeSpan.Zero)
        {
            await Task.Delay(probe.Delay, cancellationToken);
        }

        if (probe.Broken)
        {
            throw new InvalidOperationException($"A bug, fixed since: message {context.MessageId} failed.");
        }

        if (message.Poison)
        {
            throw new InvalidOperationException($"Poison message {context.MessageId}.");
        }

        db.Effects.Add(new Effect { MessageId = context.MessageId, Key = message.Key, Sequence = message.Sequence, Partition = context.Partition, Offset = context.Offset });
        if (probe.InvoiceTopic is { } topic)
        {
            context.Outbox.Produce(topic, message.Key, new InvoiceCreated(context.MessageId, message.Key, message.Sequence));
        }
    }
}
