using System.Data.Common;
using System.Runtime.CompilerServices;
using Inbox.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Inbox.Outbox.Storage;

/// <summary>
/// What the outbox needs of its database beyond EF Core's LINQ: on PostgreSQL, transaction-scoped advisory locks that
/// give a dispatcher its lanes (try, never wait) and serialize the writers of one key, so that a key's rows get their
/// IDs in commit order. SQLite needs neither: it has one writer at a time and one dispatching process.
/// </summary>
internal sealed class OutboxStore
{
    // The two lock spaces (the first key of the two-int advisory lock), apart from any the application uses: 'obx1', 'obx2'.
    private const int LaneLocks = 0x6F627831;
    private const int KeyLocks = 0x6F627832;

    private static readonly ConditionalWeakTable<Microsoft.EntityFrameworkCore.Metadata.IModel, OutboxStore> Cache = [];

    private OutboxStore(bool isPostgres, string table)
    {
        IsPostgres = isPostgres;
        Table = table;
    }

    public bool IsPostgres { get; }

    /// <summary>The table's schema-qualified name, for logs and telemetry.</summary>
    public string Table { get; }

    /// <summary>Returns the store of a DbContext, or throws with the call that fixes the set-up.</summary>
    public static OutboxStore For(DbContext db)
    {
        if (Cache.TryGetValue(db.Model, out var store))
        {
            return store;
        }

        var name = db.GetType().Name;
        var provider = db.Database.ProviderName;
        if (provider is not (InboxDialects.PostgreSqlProvider or InboxDialects.SqliteProvider))
        {
            throw new InvalidOperationException(
                $"{name} uses the EF Core provider '{provider}', which the outbox does not support. It supports PostgreSQL (options.UseNpgsql(...)) and SQLite (options.UseSqlite(...)).");
        }

        var entity = db.Model.FindEntityType(typeof(OutboxRecord))
            ?? throw new InvalidOperationException($"{name}'s model has no outbox table: call modelBuilder.AddOutbox() in {name}.OnModelCreating, then add a migration.");
        var schema = entity.GetSchema();
        store = new OutboxStore(provider == InboxDialects.PostgreSqlProvider, schema is null ? entity.GetTableName()! : $"{schema}.{entity.GetTableName()}");
        Cache.AddOrUpdate(db.Model, store);
        return store;
    }

    /// <summary>
    /// PostgreSQL: takes, for the current transaction, every lane no other dispatcher holds, without waiting for any.
    /// SQLite: every lane.
    /// </summary>
    public async Task<List<int>> ClaimLanesAsync(DbContext db, int lanes, CancellationToken cancellationToken)
    {
        if (!IsPostgres)
        {
            return [.. Enumerable.Range(0, lanes)];
        }

        await using var command = Command(db, "SELECT l FROM generate_series(0, $1 - 1) AS l WHERE pg_try_advisory_xact_lock($2, l)");
        Parameter(command, lanes);
        Parameter(command, LaneLocks);
        var claimed = new List<int>(lanes);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            claimed.Add(reader.GetInt32(0));
        }

        return claimed;
    }

    /// <summary>
    /// PostgreSQL: locks these keys until the current transaction ends, in one order everywhere (no deadlock), so that
    /// another transaction writing one of them waits and its rows get later IDs: per key, ID order is commit order.
    /// </summary>
    public async Task LockKeysAsync(DbContext db, IEnumerable<int> keyHashes, CancellationToken cancellationToken)
    {
        int[] sorted = [.. keyHashes.Distinct().Order()];
        await using var command = Command(db, "SELECT count(pg_advisory_xact_lock($1, k)) FROM unnest($2::int[]) AS k");
        Parameter(command, KeyLocks);
        Parameter(command, sorted);
        await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc cref="LockKeysAsync"/>
    public void LockKeys(DbContext db, IEnumerable<int> keyHashes)
    {
        int[] sorted = [.. keyHashes.Distinct().Order()];
        using var command = Command(db, "SELECT count(pg_advisory_xact_lock($1, k)) FROM unnest($2::int[]) AS k");
        Parameter(command, KeyLocks);
        Parameter(command, sorted);
        command.ExecuteScalar();
    }

    private static DbCommand Command(DbContext db, string sql)
    {
        var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = sql;
        command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
        return command;
    }

    private static void Parameter(DbCommand command, object value)
    {
        var parameter = command.CreateParameter();
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
