using Inbox.AspNetCore;
using Inbox.Kafka;
using Microsoft.EntityFrameworkCore;

namespace Inbox.Benchmarks.Scenarios;

/// <summary>
/// The business side of every scenario: one order row per processed message. Its inbox keeps records by generations
/// when the connection string's application name is <see cref="GenerationsMarker"/>.
/// </summary>
public sealed class BenchDbContext(DbContextOptions<BenchDbContext> options) : DbContext(options)
{
    public const string GenerationsMarker = "inbox-bench-generations";

    public DbSet<Order> Orders => Set<Order>();

    public bool Generations { get; } = options.Extensions.OfType<Microsoft.EntityFrameworkCore.Infrastructure.RelationalOptionsExtension>()
        .FirstOrDefault()?.ConnectionString?.Contains(GenerationsMarker, StringComparison.Ordinal) == true;

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Order>(e =>
        {
            e.ToTable("orders");
            e.HasKey(o => o.Id);
        });
        modelBuilder.AddInbox(t => t.Retention = Generations ? InboxRetention.Generations : InboxRetention.Delete);
        modelBuilder.AddInboxKafkaOffsets();
        modelBuilder.AddOutbox();
        modelBuilder.AddIdempotencyKeys();
    }
}

/// <summary>One cached model per retention.</summary>
public sealed class BenchModelCacheKeys : Microsoft.EntityFrameworkCore.Infrastructure.IModelCacheKeyFactory
{
    public object Create(DbContext context, bool designTime) => (context.GetType(), context is BenchDbContext { Generations: true }, designTime);
}

public sealed class Order
{
    public long Id { get; set; }

    public string MessageId { get; set; } = "";

    public decimal Amount { get; set; }
}
