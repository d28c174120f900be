using Microsoft.EntityFrameworkCore;

namespace Inbox.Testing.Tests.Support;

/// <summary>A shop's model: orders, a counter the wrong handlers bump outside the unit, the inbox, the outbox and the HTTP keys.</summary>
public sealed class ShopDbContext(DbContextOptions<ShopDbContext> options) : DbContext(options)
{
    public DbSet<Order> Orders => Set<Order>();

    public DbSet<Counter> Counters => Set<Counter>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.AddInbox();
        modelBuilder.AddOutbox();
        modelBuilder.AddIdempotencyKeys();
        modelBuilder.Entity<Counter>().HasData(new Counter { Id = 1, Value = 0 });
    }
}

public sealed class Order
{
    public long Id { get; set; }

    public string OrderId { get; set; } = "";

    public decimal Amount { get; set; }
}

public sealed class Counter
{
    public int Id { get; set; }

    public int Value { get; set; }
}

public sealed record OrderPlaced(string OrderId, decimal Amount);
