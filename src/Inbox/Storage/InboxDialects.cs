using System.Runtime.CompilerServices;
using Inbox.Model;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace Inbox.Storage;

/// <summary>Finds the dialect for a DbContext: its provider and the inbox table in its model, resolved once per model.</summary>
internal static class InboxDialects
{
    internal const string PostgreSqlProvider = "Npgsql.EntityFrameworkCore.PostgreSQL";
    internal const string SqliteProvider = "Microsoft.EntityFrameworkCore.Sqlite";

    private static readonly ConditionalWeakTable<IModel, InboxDialect> Cache = [];

    /// <summary>Returns the dialect, or throws with the call that fixes the set-up.</summary>
    /// <exception cref="InvalidOperationException">Unsupported provider, or no inbox in the model.</exception>
    public static InboxDialect For(DbContext db)
    {
        var model = db.Model;
        if (Cache.TryGetValue(model, out var dialect))
        {
            return dialect;
        }

        dialect = Create(db);
        Cache.AddOrUpdate(model, dialect);
        return dialect;
    }

    /// <summary>Whether the DbContext is on PostgreSQL (else SQLite); throws for a provider Inbox does not support.</summary>
    /// <exception cref="InvalidOperationException">Neither PostgreSQL nor SQLite.</exception>
    public static bool IsPostgreSql(DbContext db)
    {
        var provider = db.Database.ProviderName;
        return provider switch
        {
            PostgreSqlProvider => true,
            SqliteProvider => false,
            _ => throw new InvalidOperationException(
                $"{db.GetType().Name} uses the EF Core provider '{provider}', which Inbox does not support. " +
                "Inbox supports PostgreSQL (options.UseNpgsql(...)) and SQLite (options.UseSqlite(...))."),
        };
    }

    private static InboxDialect Create(DbContext db)
    {
        var contextName = db.GetType().Name;
        var postgres = IsPostgreSql(db);

        var sql = db.GetService<ISqlGenerationHelper>();
        if (db.Model.FindAnnotation(InboxGenerations.Annotation)?.Value is string generations)
        {
            return CreateGenerations(db, sql, generations, postgres);
        }

        var entity = db.Model.FindEntityType(typeof(InboxRecord))
            ?? throw new InvalidOperationException(
                $"{contextName}'s model has no inbox table: call modelBuilder.AddInbox() in {contextName}.OnModelCreating, then add a migration.");

        var tableName = entity.GetTableName()!;
        var schema = entity.GetSchema();
        var store = StoreObjectIdentifier.Table(tableName, schema);
        string Column(string property) => sql.DelimitIdentifier(entity.FindProperty(property)!.GetColumnName(store)!);

        var names = new InboxTableNames(
            Table: sql.DelimitIdentifier(tableName, schema),
            QualifiedName: schema is null ? tableName : $"{schema}.{tableName}",
            Consumer: Column(nameof(InboxRecord.Consumer)),
            MessageId: Column(nameof(InboxRecord.MessageId)),
            ProcessedAt: Column(nameof(InboxRecord.ProcessedAt)),
            Fingerprint: Column(nameof(InboxRecord.Fingerprint)));

        return postgres ? new PostgreSqlDialect(names) : new SqliteDialect(names);
    }

    private static PostgreSqlGenerationsDialect CreateGenerations(DbContext db, ISqlGenerationHelper sql, string table, bool postgres)
    {
        if (!postgres)
        {
            throw new InvalidOperationException(
                $"{db.GetType().Name}'s inbox keeps its records by generations, which needs PostgreSQL. On SQLite leave " +
                "InboxTableOptions.Retention at Delete (the default) in modelBuilder.AddInbox(...).");
        }

        string Delimited(string name) => sql.DelimitIdentifier(name, db.Model.FindEntityType(name)!.GetSchema());
        var control = InboxGenerations.ControlTable(table);
        var schema = db.Model.FindEntityType(control)!.GetSchema();
        var records = Enumerable.Range(0, InboxGenerations.Tables).Select(slot => Delimited(InboxGenerations.RecordTable(table, slot))).ToArray();
        var names = new InboxTableNames(
            Table: Delimited(control),
            QualifiedName: schema is null ? table : $"{schema}.{table}",
            Consumer: "consumer",
            MessageId: "message_id",
            ProcessedAt: "processed_at",
            Fingerprint: "fingerprint");
        return new PostgreSqlGenerationsDialect(names, records, Delimited(control));
    }
}
