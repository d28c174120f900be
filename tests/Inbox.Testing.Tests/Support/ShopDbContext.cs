using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace Inbox.Testing.Tests.Support;

/// <summary>
/// A shop's model: orders, a counter the wrong handlers bump outside the unit, the inbox, the outbox and the HTTP keys.
/// Its inbox keeps records by generations when the connection string's application name says so
/// (<see cref="GenerationsMarker"/>, with <see cref="ShopModelCacheKeys"/>), so one handler type runs on both models.
/// </summary>
public sealed class ShopDbContext(DbContextOptions<ShopDbContext> options) : DbContext(options)
{
    public const string GenerationsMarker = "inbox-kit-generations";

    public bool Generations { get; } = options.Extensions.OfType<RelationalOptionsExtension>().FirstOrDefault()?.ConnectionString?.Contains(GenerationsMarker, StringComparison.Ordinal) == true;

    public DbSet<Order> Orders => Set<Order>();

    public DbSet<Counter> Counters => Set<Counter>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.AddInbox(t => t.Retention = Generations ? InboxRetention.Generations : InboxRetention.Delete);
        modelBuilder.AddOutbox();
        modelBuilder.AddIdempotencyKeys();
        modelBuilder.Entity<Counter>().HasData(new Counter { Id = 1, Value = 0 });
    }
}

/// <summary>One model per retention mode.</summary>
public sealed class ShopModelCacheKeys : IModelCacheKeyFactory
{
    public object Create(DbContext context, bool designTime) => (context.GetType(), context is ShopDbContext { Generations: true }, designTime);
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
