using System.ComponentModel;
using Inbox.Kafka;
using Inbox.Kafka.Offsets;
using Inbox.Model;

namespace Microsoft.EntityFrameworkCore;

/// <summary>Adds the Kafka offsets table to an application's EF Core model.</summary>
public static class InboxKafkaModelBuilderExtensions
{
    /// <summary>
    /// Adds the table that holds each partition's next offset for <see cref="InboxKafkaConsumerOptions{TMessage}.StoreOffsetsInDatabase"/>,
    /// so that the application's migrations create it and the inbox's transactions cover it. Call it from
    /// <c>OnModelCreating</c>, next to <c>modelBuilder.AddInbox()</c>.
    /// </summary>
    /// <param name="modelBuilder">The application's model builder.</param>
    /// <param name="configure">Changes the table's name or schema.</param>
    /// <returns>The same model builder.</returns>
    /// <exception cref="ArgumentException">The table name or schema is empty, too long or has control characters.</exception>
    public static ModelBuilder AddInboxKafkaOffsets(this ModelBuilder modelBuilder, Action<InboxKafkaOffsetTableOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);

        var options = new InboxKafkaOffsetTableOptions();
        configure?.Invoke(options);
        ModelIdentifiers.Validate(options.TableName, nameof(InboxKafkaOffsetTableOptions.TableName), "Kafka offsets");
        if (options.Schema is not null)
        {
            ModelIdentifiers.Validate(options.Schema, nameof(InboxKafkaOffsetTableOptions.Schema), "Kafka offsets");
        }

        modelBuilder.Entity<InboxKafkaOffset>(entity =>
        {
            entity.ToTable(options.TableName, options.Schema);
            entity.HasKey(o => new { o.Consumer, o.Topic, o.Partition }).HasName($"pk_{options.TableName}");
            entity.Property(o => o.Consumer).HasColumnName(DatabaseOffsets.ConsumerColumn).IsRequired();
            entity.Property(o => o.Topic).HasColumnName(DatabaseOffsets.TopicColumn).IsRequired();
            entity.Property(o => o.Partition).HasColumnName(DatabaseOffsets.PartitionColumn);
            entity.Property(o => o.NextOffset).HasColumnName(DatabaseOffsets.NextOffsetColumn);
        });
        return modelBuilder;
    }

    /// <summary>Adds the Kafka offsets table under another name: use the overload with <see cref="InboxKafkaOffsetTableOptions"/>.</summary>
    /// <param name="modelBuilder">The application's model builder.</param>
    /// <param name="tableName">The table name.</param>
    /// <param name="schema">The schema, or <see langword="null"/> for the default one.</param>
    /// <returns>The same model builder.</returns>
    [Obsolete("Use AddInboxKafkaOffsets(t => { t.TableName = ...; t.Schema = ...; }), as AddInbox and AddOutbox take their table.")]
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static ModelBuilder AddInboxKafkaOffsets(this ModelBuilder modelBuilder, string tableName, string? schema = null)
        => modelBuilder.AddInboxKafkaOffsets(t =>
        {
            t.TableName = tableName;
            t.Schema = schema;
        });
}
