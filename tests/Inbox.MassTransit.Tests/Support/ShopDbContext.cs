using Microsoft.EntityFrameworkCore;

namespace Inbox.MassTransit.Tests.Support;

public sealed class ShopDbContext(DbContextOptions<ShopDbContext> options) : DbContext(options)
{
    public DbSet<ShippedOrder> ShippedOrders => Set<ShippedOrder>();

    public DbSet<Notification> Notifications => Set<Notification>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.AddInbox();
        modelBuilder.AddOutbox();
        modelBuilder.Entity<Notification>().HasKey(n => n.Id);

        // No unique index on OrderId: a double effect must show up as two rows, not as a constraint error.
        modelBuilder.Entity<ShippedOrder>().HasKey(o => o.Id);
    }
}

/// <summary>The business effect of one OrderPlaced message.</summary>
public sealed class ShippedOrder
{
    public long Id { get; set; }

    public string OrderId { get; set; } = "";

    public string Consumer { get; set; } = "";
}

/// <summary>The business effect of one OrderShipped event downstream, with the envelope it arrived in.</summary>
public sealed class Notification
{
    public long Id { get; set; }

    public string OrderId { get; set; } = "";

    public Guid? MessageId { get; set; }

    public Guid? InitiatorId { get; set; }

    public Guid? ConversationId { get; set; }
}

/// <summary>A second model, to test choosing between inboxes.</summary>
public sealed class OtherDbContext(DbContextOptions<OtherDbContext> options) : DbContext(options)
{
    protected override void OnModelCreating(ModelBuilder modelBuilder) => modelBuilder.AddInbox();
}
