using Inbox.Kafka.Offsets;
using Microsoft.EntityFrameworkCore;

namespace Inbox.Kafka;

/// <summary>Adds the Kafka offsets table to an application's EF Core model.</summary>
public static class InboxKafkaModelBuilderExtensions
{
    /// <summary>
    /// Adds the table that holds each partition's next offset for <see cref="InboxKafkaConsumerOptions{TMessage}.StoreOffsetsInDatabase"/>,
    /// so that the application's migrations create it and the inbox's transactions cover it. Call it from
    /// <c>OnModelCreating</c>, next to <c>modelBuilder.AddInbox()</c>.
    /// </summary>
    /// <param name="modelBuilder">The application's model builder.</param>
    /// <param name="tableName">The table name.</param>
    /// <param name="schema">The schema, or <see langword="null"/> for the default one.</param>
    /// <returns>The same model builder.</returns>
    /// <exception cref="ArgumentException">The table name or schema is empty, too long or has control characters.</exception>
    public static ModelBuilder AddInboxKafkaOffsets(this ModelBuilder modelBuilder, string tableName = "inbox_kafka_offsets", string? schema = null)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        ValidateIdentifier(tableName, nameof(tableName));
        if (schema is not null)
        {
            ValidateIdentifier(schema, nameof(schema));
        }

        modelBuilder.Entity<InboxKafkaOffset>(entity =>
        {
            entity.ToTable(tableName, schema);
            entity.HasKey(o => new { o.Consumer, o.Topic, o.Partition }).HasName($"pk_{tableName}");
            entity.Property(o => o.Consumer).HasColumnName(DatabaseOffsets.ConsumerColumn).IsRequired();
            entity.Property(o => o.Topic).HasColumnName(DatabaseOffsets.TopicColumn).IsRequired();
            entity.Property(o => o.Partition).HasColumnName(DatabaseOffsets.PartitionColumn);
            entity.Property(o => o.NextOffset).HasColumnName(DatabaseOffsets.NextOffsetColumn);
        });
        return modelBuilder;
    }

    private static void ValidateIdentifier(string? value, string parameterName)
    {
        if (string.IsNullOrWhiteSpace(value) || value.Length > 63 || value.Any(char.IsControl))
        {
            throw new ArgumentException(
                $"The Kafka offsets table {parameterName} '{value}' is not a usable identifier: give 1 to 63 characters with no control characters.",
                parameterName);
        }
    }
}
