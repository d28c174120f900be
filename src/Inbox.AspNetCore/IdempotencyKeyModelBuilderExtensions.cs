using Inbox.AspNetCore;
using Inbox.AspNetCore.Storage;
using Inbox.Model;

namespace Microsoft.EntityFrameworkCore;

/// <summary>Adds the idempotency key table to the application's own EF Core model.</summary>
public static class IdempotencyKeyModelBuilderExtensions
{
    /// <summary>
    /// Adds the table that holds each request's key and stored response (<c>idempotency_keys</c>) to this model, so
    /// that the application's migrations create it and the endpoint's transaction covers it. Call it in
    /// <c>OnModelCreating</c>, next to <c>modelBuilder.AddInbox()</c>.
    /// </summary>
    /// <param name="modelBuilder">The application's model builder.</param>
    /// <param name="configure">Changes the table's name or schema.</param>
    /// <returns>The same model builder.</returns>
    /// <exception cref="ArgumentException">The table name or schema is empty, too long or has control characters.</exception>
    public static ModelBuilder AddIdempotencyKeys(this ModelBuilder modelBuilder, Action<IdempotencyKeyTableOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);

        var options = new IdempotencyKeyTableOptions();
        configure?.Invoke(options);
        ModelIdentifiers.Validate(options.TableName, nameof(IdempotencyKeyTableOptions.TableName), "idempotency key");
        if (options.Schema is not null)
        {
            ModelIdentifiers.Validate(options.Schema, nameof(IdempotencyKeyTableOptions.Schema), "idempotency key");
        }

        modelBuilder.Entity<IdempotencyRecord>(entity =>
        {
            entity.ToTable(options.TableName, options.Schema);
            entity.HasKey(r => new { r.Scope, r.Key }).HasName($"pk_{options.TableName}");
            entity.Property(r => r.Scope).HasColumnName("scope").HasMaxLength(IdempotencyRecord.MaxScopeLength).IsRequired();
            entity.Property(r => r.Key).HasColumnName("key").HasMaxLength(IdempotencyRecord.MaxKeyLength).IsRequired();
            entity.Property(r => r.Fingerprint).HasColumnName("fingerprint").IsRequired();
            entity.Property(r => r.CreatedAt).HasColumnName("created_at");
            entity.Property(r => r.StatusCode).HasColumnName("status_code");
            entity.Property(r => r.Headers).HasColumnName("headers");
            entity.Property(r => r.Body).HasColumnName("body");
            entity.Property(r => r.BodyOmitted).HasColumnName("body_omitted");
            entity.HasIndex(r => r.CreatedAt).HasDatabaseName($"ix_{options.TableName}_created_at");
        });

        return modelBuilder;
    }
}
