using Microsoft.EntityFrameworkCore;

namespace Inbox.Tool.Tests.Support;

/// <summary>An application's DbContext with the three tables under names of its own, as the tool must be told them.</summary>
public sealed class ShopDbContext(DbContextOptions<ShopDbContext> options) : DbContext(options)
{
    public const string InboxTable = "shop_inbox";
    public const string OutboxTable = "shop_outbox";
    public const string KeysTable = "shop_keys";

    public DbSet<Order> Orders => Set<Order>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.AddInbox(t => t.TableName = InboxTable);
        modelBuilder.AddOutbox(t => t.TableName = OutboxTable);
        modelBuilder.AddIdempotencyKeys(t => t.TableName = KeysTable);
    }
}

public sealed class Order
{
    public long Id { get; set; }

    public string MessageId { get; set; } = "";
}
