using Inbox.AspNetCore;
using Microsoft.EntityFrameworkCore;

namespace Inbox.Benchmarks.Scenarios;

/// <summary>The business side of every scenario: one order row per processed message.</summary>
public sealed class BenchDbContext(DbContextOptions<BenchDbContext> options) : DbContext(options)
{
    public DbSet<Order> Orders => Set<Order>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Order>(e =>
        {
            e.ToTable("orders");
            e.HasKey(o => o.Id);
        });
        modelBuilder.AddInbox();
        modelBuilder.AddOutbox();
        modelBuilder.AddIdempotencyKeys();
    }
}

public sealed class Order
{
    public long Id { get; set; }

    public string MessageId { get; set; } = "";

    public decimal Amount { get; set; }
}
