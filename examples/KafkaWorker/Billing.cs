using Inbox;
using Inbox.Kafka;
using Microsoft.EntityFrameworkCore;

namespace KafkaWorker;

public sealed record OrderPlaced(string OrderId, string CustomerId, decimal Amount);

public sealed record InvoiceCreated(string OrderId, string CustomerId, decimal Amount);

public sealed class Invoice
{
    public long Id { get; set; }

    public string OrderId { get; set; } = "";

    public string CustomerId { get; set; } = "";

    public decimal Amount { get; set; }
}

public sealed class BillingDbContext(DbContextOptions<BillingDbContext> options) : DbContext(options)
{
    public DbSet<Invoice> Invoices => Set<Invoice>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.AddInbox();
        modelBuilder.AddInboxKafkaOffsets();
        modelBuilder.AddOutbox();
    }
}

/// <summary>Writes through the scope's DbContext; the inbox commits the invoice with the message's inbox record.</summary>
public sealed class OrderPlacedHandler(BillingDbContext db, ILogger<OrderPlacedHandler> logger) : IInboxHandler<OrderPlaced>
{
    public Task HandleAsync(OrderPlaced message, InboxMessageContext context, CancellationToken cancellationToken)
    {
        db.Invoices.Add(new Invoice { OrderId = message.OrderId, CustomerId = message.CustomerId, Amount = message.Amount });

        // Sent after the commit, once per order, under a message ID the next service's inbox recognises.
        context.Outbox.Produce("invoices", message.CustomerId, new InvoiceCreated(message.OrderId, message.CustomerId, message.Amount));
        logger.LogInformation("Billing {OrderId} ({Topic}[{Partition}]@{Offset})", message.OrderId, context.Topic, context.Partition, context.Offset);
        return Task.CompletedTask;
    }
}
