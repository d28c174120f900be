namespace Inbox.Storage;

/// <summary>The inbox table's quoted identifiers, read from the EF Core model.</summary>
internal sealed record InboxTableNames(
    string Table,
    string QualifiedName,
    string Consumer,
    string MessageId,
    string ProcessedAt,
    string Fingerprint);
