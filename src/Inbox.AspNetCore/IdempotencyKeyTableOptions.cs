namespace Inbox.AspNetCore;

/// <summary>Where the idempotency key table lives in the application's database. Used by <c>modelBuilder.AddIdempotencyKeys(...)</c>.</summary>
public sealed class IdempotencyKeyTableOptions
{
    /// <summary>Gets or sets the table name. Quoted as an identifier, never spliced into SQL raw.</summary>
    /// <value><c>idempotency_keys</c>. 1 to 63 characters, no control characters.</value>
    public string TableName { get; set; } = "idempotency_keys";

    /// <summary>Gets or sets the schema, or <see langword="null"/> for the model's default schema.</summary>
    /// <value><see langword="null"/>. When set, 1 to 63 characters, no control characters.</value>
    public string? Schema { get; set; }
}
