using Microsoft.EntityFrameworkCore;

namespace Inbox.Tests.Contract;

/// <summary>An application's DbContext: one business table and the inbox.</summary>
public sealed class TestDbContext(DbContextOptions<TestDbContext> options, Action<InboxTableOptions>? table = null) : DbContext(options)
{
    public DbSet<BusinessRow> Rows => Set<BusinessRow>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        // No unique key on the business table: a double effect must show up as a second row, not as an error.
        modelBuilder.Entity<BusinessRow>(e =>
        {
            e.ToTable("business_rows");
            e.HasKey(r => r.Id);
            e.Property(r => r.Consumer).IsRequired();
            e.Property(r => r.MessageId).IsRequired();
        });
        modelBuilder.AddInbox(table);
        modelBuilder.AddOutbox();
    }
}

public sealed class BusinessRow
{
    public long Id { get; set; }

    public string Consumer { get; set; } = "";

    public string MessageId { get; set; } = "";

    public string? Note { get; set; }
}
