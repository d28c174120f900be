using Microsoft.EntityFrameworkCore;

namespace Inbox.RabbitMQ.Tests.Support;

/// <summary>
/// Service B's database in the chain: the inbox and one notification per <see cref="InvoiceCreated"/> its handler ran
/// for. No unique index on the order: a second effect for one order stays visible as a second row.
/// </summary>
public sealed class NotificationsDbContext(DbContextOptions<NotificationsDbContext> options) : DbContext(options)
{
    public DbSet<Notification> Notifications => Set<Notification>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.AddInbox();
        modelBuilder.Entity<Notification>(e =>
        {
            e.ToTable("notifications");
            e.HasKey(n => n.Id);
            e.Property(n => n.OrderId).IsRequired();
            e.Property(n => n.MessageId).IsRequired();
        });
    }
}

public sealed class Notification
{
    public long Id { get; set; }

    public string OrderId { get; set; } = "";

    /// <summary>The AMQP <c>message_id</c> the notification came under: the ID of service A's outbox row.</summary>
    public string MessageId { get; set; } = "";
}
