using Inbox.Model;
using Microsoft.EntityFrameworkCore;

namespace Inbox;

/// <summary>Adds the inbox table to an application's EF Core model.</summary>
public static class InboxModelBuilderExtensions
{
    /// <summary>
    /// Adds the inbox table to this model, so that the application's migrations create it and its transactions
    /// cover it. Call it from <c>OnModelCreating</c>.
    /// </summary>
    /// <param name="modelBuilder">The application's model builder.</param>
    /// <param name="configure">Changes the table's name or schema.</param>
    /// <returns>The same model builder.</returns>
    /// <exception cref="ArgumentException">The table name or schema is empty, too long or has control characters.</exception>
    public static ModelBuilder AddInbox(this ModelBuilder modelBuilder, Action<InboxTableOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);

        var options = new InboxTableOptions();
        configure?.Invoke(options);
        ModelIdentifiers.Validate(options.TableName, nameof(InboxTableOptions.TableName), "inbox");
        if (options.Schema is not null)
        {
            ModelIdentifiers.Validate(options.Schema, nameof(InboxTableOptions.Schema), "inbox");
        }

        modelBuilder.Entity<InboxRecord>(entity =>
        {
            entity.ToTable(options.TableName, options.Schema);
            entity.HasKey(r => new { r.Consumer, r.MessageId }).HasName($"pk_{options.TableName}");
            entity.Property(r => r.Consumer).HasColumnName("consumer").IsRequired();
            entity.Property(r => r.MessageId).HasColumnName("message_id").IsRequired();
            entity.Property(r => r.ProcessedAt).HasColumnName("processed_at").IsRequired();
            entity.Property(r => r.Fingerprint).HasColumnName("fingerprint");
            entity.HasIndex(r => r.ProcessedAt).HasDatabaseName($"ix_{options.TableName}_processed_at");
        });

        return modelBuilder;
    }
}
