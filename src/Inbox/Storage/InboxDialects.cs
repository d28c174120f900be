using Inbox.Model;
using Inbox.Storage.Providers;
using Microsoft.EntityFrameworkCore;

namespace Inbox.Storage;

/// <summary>The inbox's statement set: the dialect for the inbox table in a DbContext's model, built once per model by its provider.</summary>
internal sealed class InboxDialects : IStatementSet<InboxDialect>
{
    private static readonly InboxDialects Set = new();

    private InboxDialects()
    {
    }

    /// <summary>Returns the dialect, or throws with the call that fixes the set-up.</summary>
    /// <exception cref="InvalidOperationException">Unsupported provider, or no inbox in the model.</exception>
    public static InboxDialect For(DbContext db) => StorageProvider.For(db).Statements(Set);

    public InboxDialect ForPostgreSql(StorageProvider provider)
        => provider.Annotation(InboxGenerations.Annotation) is string generations
            ? Generations(provider, generations)
            : new PostgreSqlDialect(provider, Names(provider));

    public InboxDialect ForSqlite(StorageProvider provider)
    {
        if (provider.Annotation(InboxGenerations.Annotation) is string)
        {
            throw new InvalidOperationException(
                $"{provider.ContextName}'s inbox keeps its records by generations, which needs PostgreSQL. On SQLite leave " +
                "InboxTableOptions.Retention at Delete (the default) in modelBuilder.AddInbox(...).");
        }

        return new SqliteDialect(provider, Names(provider));
    }

    private static InboxTableNames Names(StorageProvider provider)
    {
        var table = provider.FindTable(typeof(InboxRecord))
            ?? throw new InvalidOperationException(
                $"{provider.ContextName}'s model has no inbox table: call modelBuilder.AddInbox() in {provider.ContextName}.OnModelCreating, then add a migration.");
        return new InboxTableNames(
            Table: table.Quoted,
            QualifiedName: table.QualifiedName,
            Consumer: table.Column(nameof(InboxRecord.Consumer)),
            MessageId: table.Column(nameof(InboxRecord.MessageId)),
            ProcessedAt: table.Column(nameof(InboxRecord.ProcessedAt)),
            Fingerprint: table.Column(nameof(InboxRecord.Fingerprint)));
    }

    private static PostgreSqlGenerationsDialect Generations(StorageProvider provider, string table)
    {
        var control = provider.Table(InboxGenerations.ControlTable(table));
        var records = Enumerable.Range(0, InboxGenerations.Tables).Select(slot => provider.Table(InboxGenerations.RecordTable(table, slot)).Quoted).ToArray();
        var names = new InboxTableNames(
            Table: control.Quoted,
            QualifiedName: control.Schema is null ? table : $"{control.Schema}.{table}",
            Consumer: "consumer",
            MessageId: "message_id",
            ProcessedAt: "processed_at",
            Fingerprint: "fingerprint");
        return new PostgreSqlGenerationsDialect(provider, names, records, control.Quoted);
    }
}
