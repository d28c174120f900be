namespace Inbox;

/// <summary>Where the outbox table lives in the application's database. Used by <c>modelBuilder.AddOutbox(...)</c>.</summary>
public sealed class OutboxTableOptions
{
    /// <summary>Gets or sets the table name. Quoted as an identifier, never spliced into SQL raw.</summary>
    /// <value><c>outbox_messages</c>. 1 to 63 characters, no control characters.</value>
    public string TableName { get; set; } = "outbox_messages";

    /// <summary>Gets or sets the schema, or <see langword="null"/> for the model's default schema.</summary>
    /// <value><see langword="null"/>. When set, 1 to 63 characters, no control characters.</value>
    public string? Schema { get; set; }
}
