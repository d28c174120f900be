using Microsoft.EntityFrameworkCore;

namespace Inbox.RabbitMQ.Tests.Support;

/// <summary>The business table the handler writes (one invoice per order message it runs for) beside the inbox.</summary>
public sealed class BillingDbContext(DbContextOptions<BillingDbContext> options) : DbContext(options)
{
    public DbSet<Invoice> Invoices => Set<Invoice>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.AddInbox();
        modelBuilder.AddOutbox();
        modelBuilder.Entity<Invoice>(e =>
        {
            e.ToTable("invoices");
            e.HasKey(i => i.Id);
            e.Property(i => i.OrderId).IsRequired();
        });
    }
}

public sealed class Invoice
{
    public long Id { get; set; }

    public string OrderId { get; set; } = "";

    public string MessageId { get; set; } = "";
}

public sealed record OrderPlaced(string OrderId);

public sealed record InvoiceCreated(string OrderId);
