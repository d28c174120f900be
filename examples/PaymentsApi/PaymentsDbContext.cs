using Inbox;
using Inbox.AspNetCore;
using Microsoft.EntityFrameworkCore;

namespace PaymentsApi;

/// <summary>The API's own DbContext: payments, and the inbox and idempotency key tables.</summary>
public sealed class PaymentsDbContext(DbContextOptions<PaymentsDbContext> options) : DbContext(options)
{
    public DbSet<Payment> Payments => Set<Payment>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.AddInbox();
        modelBuilder.AddIdempotencyKeys();
    }
}

public sealed class Payment
{
    public long Id { get; set; }

    public string OrderId { get; set; } = "";

    public decimal Amount { get; set; }
}

public sealed record PaymentRequest(string OrderId, decimal Amount);
