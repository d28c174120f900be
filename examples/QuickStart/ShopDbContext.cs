using Inbox;
using Microsoft.EntityFrameworkCore;

namespace QuickStart;

/// <summary>The application's own DbContext: its business tables and, via AddInbox() and AddOutbox(), the inbox and outbox tables.</summary>
public sealed class ShopDbContext(DbContextOptions<ShopDbContext> options) : DbContext(options)
{
    public DbSet<Shipment> Shipments => Set<Shipment>();

    public DbSet<Notification> Notifications => Set<Notification>();

    protected override void OnModelCreating(ModelBuilder modelBuilder) => modelBuilder.AddInbox().AddOutbox();
}

public sealed class Shipment
{
    public long Id { get; set; }

    public string OrderId { get; set; } = "";
}

public sealed class Notification
{
    public long Id { get; set; }

    public string OrderId { get; set; } = "";
}

public sealed record OrderPlaced(string OrderId);

public sealed record OrderShipped(string OrderId);
