namespace Inbox;

/// <summary>Where the inbox table lives in the application's database. Used by <c>modelBuilder.AddInbox(...)</c>.</summary>
public sealed class InboxTableOptions
{
    /// <summary>Gets or sets the table name. Quoted as an identifier, never spliced into SQL raw.</summary>
    /// <value><c>inbox_messages</c>. 1 to 63 characters, no control characters.</value>
    public string TableName { get; set; } = "inbox_messages";

    /// <summary>Gets or sets the schema, or <see langword="null"/> for the model's default schema.</summary>
    /// <value><see langword="null"/>. When set, 1 to 63 characters, no control characters.</value>
    public string? Schema { get; set; }

    /// <summary>
    /// Gets or sets how expired records are removed. <see cref="InboxRetention.Generations"/> (PostgreSQL) maps three
    /// tables <c>{TableName}_g0</c> to <c>_g2</c> and a one-row table <c>{TableName}_generation</c> instead of
    /// <c>{TableName}</c>; add a migration after changing it.
    /// </summary>
    /// <value><see cref="InboxRetention.Delete"/>. With generations, <see cref="TableName"/> has at most 52 characters.</value>
    public InboxRetention Retention { get; set; }
}
