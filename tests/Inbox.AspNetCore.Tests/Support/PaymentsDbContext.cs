using Inbox.AspNetCore;
using Microsoft.EntityFrameworkCore;

namespace Inbox.AspNetCore.Tests.Support;

/// <summary>The application's DbContext: payments, the inbox and the idempotency keys.</summary>
public sealed class PaymentsDbContext(DbContextOptions<PaymentsDbContext> options) : DbContext(options)
{
    public DbSet<Payment> Payments => Set<Payment>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.AddInbox();
        modelBuilder.AddOutbox();
        modelBuilder.AddIdempotencyKeys();
    }
}

public sealed class Payment
{
    public long Id { get; set; }

    public string OrderId { get; set; } = "";

    public decimal Amount { get; set; }

    public string? User { get; set; }
}

/// <param name="OrderId">The order paid for.</param>
/// <param name="Amount">Over 1,000 is refused with 402 (a business rejection).</param>
/// <param name="DelayMs">How long the endpoint takes after writing, to keep a request in flight.</param>
/// <param name="Announce">Also write a PaymentTaken message to the outbox (transport "test", destination "payments").</param>
public sealed record PaymentRequest(string OrderId, decimal Amount, int DelayMs = 0, bool Announce = false);
