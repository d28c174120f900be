using Inbox;
using Inbox.Model;
using Inbox.Outbox.Storage;

namespace Microsoft.EntityFrameworkCore;

/// <summary>Adds the outbox table to an application's EF Core model.</summary>
public static class OutboxModelBuilderExtensions
{
    /// <summary>
    /// Adds the outbox table to this model, so that the application's migrations create it and the messages its code
    /// writes (<c>db.Outbox()</c>, a Kafka handler's <c>context.Outbox</c>) commit in the same transaction as its other
    /// writes. Call it from <c>OnModelCreating</c>, next to <c>modelBuilder.AddInbox()</c>.
    /// </summary>
    /// <param name="modelBuilder">The application's model builder.</param>
    /// <param name="configure">Changes the table's name or schema.</param>
    /// <returns>The same model builder.</returns>
    /// <exception cref="ArgumentException">The table name or schema is empty, too long or has control characters.</exception>
    public static ModelBuilder AddOutbox(this ModelBuilder modelBuilder, Action<OutboxTableOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);

        var options = new OutboxTableOptions();
        configure?.Invoke(options);
        ModelIdentifiers.Validate(options.TableName, nameof(OutboxTableOptions.TableName), "outbox");
        if (options.Schema is not null)
        {
            ModelIdentifiers.Validate(options.Schema, nameof(OutboxTableOptions.Schema), "outbox");
        }

        modelBuilder.Entity<OutboxRecord>(entity =>
        {
            entity.Ignore(r => r.Sequence);
            entity.ToTable(options.TableName, options.Schema);
            entity.HasKey(r => r.Id).HasName($"pk_{options.TableName}");
            entity.Property(r => r.Id).HasColumnName("id").ValueGeneratedOnAdd();
            entity.Property(r => r.MessageId).HasColumnName("message_id").IsRequired();
            entity.Property(r => r.Transport).HasColumnName("transport").IsRequired();
            entity.Property(r => r.Destination).HasColumnName("destination").IsRequired();
            entity.Property(r => r.PartitionKey).HasColumnName("partition_key");
            entity.Property(r => r.KeyHash).HasColumnName("key_hash");
            entity.Property(r => r.Body).HasColumnName("body").IsRequired();
            entity.Property(r => r.Headers).HasColumnName("headers");
            entity.Property(r => r.ContentType).HasColumnName("content_type");
            entity.Property(r => r.TraceParent).HasColumnName("trace_parent");
            entity.Property(r => r.CreatedAt).HasColumnName("created_at");
            entity.Property(r => r.Attempts).HasColumnName("attempts");
            entity.Property(r => r.LastError).HasColumnName("last_error");
            entity.Property(r => r.FailedAt).HasColumnName("failed_at");
        });

        return modelBuilder;
    }
}
