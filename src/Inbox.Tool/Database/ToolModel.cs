namespace Inbox.Tool.Database;

/// <summary>The tables found in the database, by the names the application maps them under; null for one it has not.</summary>
/// <param name="Schema">The schema, or null for the connection's default.</param>
/// <param name="InboxTable">The inbox table.</param>
/// <param name="Retention">How the inbox keeps its records (generations when its control table is there).</param>
/// <param name="OutboxTable">The outbox table.</param>
/// <param name="KeysTable">The idempotency keys' table.</param>
internal sealed record ToolModel(string? Schema, string? InboxTable, InboxRetention Retention, string? OutboxTable, string? KeysTable);
