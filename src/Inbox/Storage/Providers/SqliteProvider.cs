using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace Inbox.Storage.Providers;

/// <summary>
/// SQLite (3.35 or later, as bundled with Microsoft.Data.Sqlite), the embedded default: one writer at a time, so no
/// locks to take or skip, and named parameters (<c>@name</c>).
/// </summary>
internal sealed class SqliteProvider(IModel model, ISqlGenerationHelper sql, string contextName) : StorageProvider(model, sql, contextName)
{
    /// <summary>Microsoft's EF Core SQLite provider name.</summary>
    public const string EfCoreProvider = "Microsoft.EntityFrameworkCore.Sqlite";

    public override string Name => "SQLite";

    public override bool HasAdvisoryLocks => false;

    public override bool SingleWriter => true;

    public override bool BatchIsOneTransaction => false;

    public override string PurgeStatement(string quotedTable, string timeColumn)
        => $"DELETE FROM {quotedTable} WHERE rowid IN (SELECT rowid FROM {quotedTable} WHERE {timeColumn} < @cutoff LIMIT @limit)";

    public override string ParameterName(string name) => "@" + name;

    protected override T Build<T>(IStatementSet<T> set) => set.ForSqlite(this);
}
