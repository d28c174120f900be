using Inbox;
using Inbox.Model;

namespace Microsoft.EntityFrameworkCore;

/// <summary>Adds the inbox table to an application's EF Core model.</summary>
public static class InboxModelBuilderExtensions
{
    /// <summary>
    /// Adds the inbox table to this model, so that the application's migrations create it and its transactions
    /// cover it. Call it from <c>OnModelCreating</c>.
    /// </summary>
    /// <param name="modelBuilder">The application's model builder.</param>
    /// <param name="configure">Changes the table's name, schema or retention.</param>
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

        if (options.Retention == InboxRetention.Generations)
        {
            if (options.TableName.Length > 63 - InboxGenerations.SuffixLength)
            {
                throw new ArgumentException(
                    $"The inbox TableName '{options.TableName}' is too long for retention by generations: give at most {63 - InboxGenerations.SuffixLength} characters, so that '{InboxGenerations.ControlTable(options.TableName)}' fits in 63.",
                    nameof(InboxTableOptions.TableName));
            }

            InboxGenerations.Map(modelBuilder, options);
            return modelBuilder;
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
