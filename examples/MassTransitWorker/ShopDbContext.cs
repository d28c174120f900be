using Inbox;
using Microsoft.EntityFrameworkCore;

namespace MassTransitWorker;

/// <summary>The worker's DbContext: its business table and, via AddInbox(), the inbox table.</summary>
public sealed class ShopDbContext(DbContextOptions<ShopDbContext> options) : DbContext(options)
{
    public DbSet<Shipment> Shipments => Set<Shipment>();

    protected override void OnModelCreating(ModelBuilder modelBuilder) => modelBuilder.AddInbox();
}

public sealed class Shipment
{
    public long Id { get; set; }

    public string OrderId { get; set; } = "";

    public DateTimeOffset ShippedAt { get; set; }
}

public sealed record OrderPlaced(string OrderId);
