using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace Inbox.Storage.Providers;

/// <summary>
/// PostgreSQL (Npgsql): advisory locks, <c>FOR UPDATE SKIP LOCKED</c>, a batch as one implicit transaction, and
/// positional parameters (<c>$1</c>, which Npgsql sends without rewriting the SQL).
/// </summary>
internal sealed class PostgreSqlProvider(IModel model, ISqlGenerationHelper sql, string contextName) : StorageProvider(model, sql, contextName)
{
    /// <summary>Npgsql's EF Core provider name.</summary>
    public const string EfCoreProvider = "Npgsql.EntityFrameworkCore.PostgreSQL";

    public override string Name => "PostgreSQL";

    public override bool HasAdvisoryLocks => true;

    public override bool SingleWriter => false;

    public override bool BatchIsOneTransaction => true;

    // Only expired rows, skipping any a consumer or another purger has locked, so that nobody waits on the purge.
    public override string PurgeStatement(string quotedTable, string timeColumn)
        => $"DELETE FROM {quotedTable} WHERE ctid = ANY(ARRAY(SELECT ctid FROM {quotedTable} WHERE {timeColumn} < $1 LIMIT $2 FOR UPDATE SKIP LOCKED))";

    public override string ParameterName(string name) => "";

    protected override T Build<T>(IStatementSet<T> set) => set.ForPostgreSql(this);
}
