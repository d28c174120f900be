using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace Inbox.Tests.Contract;

/// <summary>
/// An application's DbContext: one business table and the inbox. Its inbox keeps records by generations when the
/// connection string's application name says so (<see cref="GenerationsMarker"/>), with <see cref="RetentionModelCacheKeys"/>
/// telling the two models apart.
/// </summary>
public sealed class TestDbContext(DbContextOptions<TestDbContext> options, Action<InboxTableOptions>? table = null) : DbContext(options)
{
    public const string GenerationsMarker = "inbox-generations";

    public DbSet<BusinessRow> Rows => Set<BusinessRow>();

    public bool Generations { get; } = options.Extensions.OfType<Microsoft.EntityFrameworkCore.Infrastructure.RelationalOptionsExtension>()
        .FirstOrDefault()?.ConnectionString?.Contains(GenerationsMarker, StringComparison.Ordinal) == true;

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
        modelBuilder.AddInbox(table ?? (Generations ? t => t.Retention = InboxRetention.Generations : null));
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

/// <summary>One cached model per retention, so that a generations fixture and a plain one can share the process.</summary>
public sealed class RetentionModelCacheKeys : IModelCacheKeyFactory
{
    public object Create(DbContext context, bool designTime)
        => (context.GetType(), context is TestDbContext { Generations: true }, designTime);
}
