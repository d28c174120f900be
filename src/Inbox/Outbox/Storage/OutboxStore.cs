using System.Data.Common;
using Inbox.Storage.Providers;
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

    private static readonly IStatementSet<OutboxStore> Statements = new StatementSet();

    private readonly string? _insert;

    private OutboxStore(StorageProvider provider, ModelTable table, string? insert)
    {
        Provider = provider;
        Table = table.QualifiedName;
        _insert = insert;
    }

    /// <summary>The engine: with advisory locks, the store claims lanes and locks keys; with one writer, neither is needed.</summary>
    public StorageProvider Provider { get; }

    /// <summary>The table's schema-qualified name, for logs and telemetry.</summary>
    public string Table { get; }

    /// <summary>
    /// Whether the store inserts a save's rows itself, after locking their keys (advisory locks), in the transaction the
    /// rest of the save joins. Otherwise the database has one writer at a time and EF Core inserts them.
    /// </summary>
    public bool InsertsRows => _insert is not null;

    /// <summary>Returns the store of a DbContext, or throws with the call that fixes the set-up.</summary>
    public static OutboxStore For(DbContext db) => StorageProvider.For(db).Statements(Statements);

    /// <summary>
    /// PostgreSQL: takes, for the current transaction, every lane no other dispatcher holds, without waiting for any.
    /// SQLite: every lane.
    /// </summary>
    public async Task<List<int>> ClaimLanesAsync(DbContext db, int lanes, CancellationToken cancellationToken)
    {
        if (!Provider.HasAdvisoryLocks)
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
    /// PostgreSQL: inserts the rows in one statement, in the order given, after locking their keys until the current
    /// transaction ends, in one order everywhere (no deadlock): another transaction writing one of these keys waits, so
    /// its rows get later IDs, and per key ID order is commit order. Both in one round trip.
    /// </summary>
    public async Task InsertAsync(DbContext db, IReadOnlyList<OutboxRecord> rows, CancellationToken cancellationToken)
    {
        await using var batch = InsertBatch(db, rows);
        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc cref="InsertAsync"/>
    public void Insert(DbContext db, IReadOnlyList<OutboxRecord> rows)
    {
        using var batch = InsertBatch(db, rows);
        batch.ExecuteNonQuery();
    }

    private DbBatch InsertBatch(DbContext db, IReadOnlyList<OutboxRecord> rows)
    {
        var connection = db.Database.GetDbConnection();
        var batch = connection.CreateBatch();
        batch.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
        int[] keys = [.. rows.Where(static r => r.PartitionKey is not null && r.LocksKey).Select(static r => r.KeyHash).Distinct().Order()];
        if (keys.Length > 0)
        {
            var locks = batch.CreateBatchCommand();
            locks.CommandText = "SELECT count(pg_advisory_xact_lock($1, k)) FROM unnest($2::int[]) AS k";
            Parameter(locks, KeyLocks);
            Parameter(locks, keys);
            batch.BatchCommands.Add(locks);
        }

        var insert = batch.CreateBatchCommand();
        insert.CommandText = _insert ?? throw new InvalidOperationException($"The outbox on {Provider.Name} leaves its rows to EF Core to insert.");
        Parameter(insert, rows.Select(static r => r.MessageId).ToArray());
        Parameter(insert, rows.Select(static r => r.Transport).ToArray());
        Parameter(insert, rows.Select(static r => r.Destination).ToArray());
        Parameter(insert, rows.Select(static r => r.PartitionKey).ToArray());
        Parameter(insert, rows.Select(static r => r.KeyHash).ToArray());
        Parameter(insert, rows.Select(static r => r.Body).ToArray());
        Parameter(insert, rows.Select(static r => r.Headers).ToArray());
        Parameter(insert, rows.Select(static r => r.ContentType).ToArray());
        Parameter(insert, rows.Select(static r => r.TraceParent).ToArray());
        Parameter(insert, rows[0].CreatedAt);
        batch.BatchCommands.Add(insert);
        return batch;
    }

    private sealed class StatementSet : IStatementSet<OutboxStore>
    {
        public OutboxStore ForPostgreSql(StorageProvider provider)
        {
            var table = Mapped(provider);
            string Column(string property) => table.Column(property);

            // One statement for every row a SaveChanges writes, in the order written (WITH ORDINALITY), instead of one
            // INSERT ... RETURNING per row: the rows' IDs are not read back, and the order is what the IDs must follow.
            var insert =
                $"INSERT INTO {table.Quoted} ({Column(nameof(OutboxRecord.MessageId))}, {Column(nameof(OutboxRecord.Transport))}, " +
                $"{Column(nameof(OutboxRecord.Destination))}, {Column(nameof(OutboxRecord.PartitionKey))}, {Column(nameof(OutboxRecord.KeyHash))}, " +
                $"{Column(nameof(OutboxRecord.Body))}, {Column(nameof(OutboxRecord.Headers))}, {Column(nameof(OutboxRecord.ContentType))}, " +
                $"{Column(nameof(OutboxRecord.TraceParent))}, {Column(nameof(OutboxRecord.CreatedAt))}, {Column(nameof(OutboxRecord.Attempts))}) " +
                "SELECT r.m, r.t, r.d, r.k, r.h, r.b, r.hd, r.ct, r.tp, $10, 0 " +
                "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::bytea[], $7::text[], $8::text[], $9::text[]) " +
                "WITH ORDINALITY AS r(m, t, d, k, h, b, hd, ct, tp, ord) ORDER BY r.ord";
            return new OutboxStore(provider, table, insert);
        }

        // One writer at a time: EF Core inserts the rows, in the order written; no key needs a lock.
        public OutboxStore ForSqlite(StorageProvider provider) => new(provider, Mapped(provider), insert: null);

        private static ModelTable Mapped(StorageProvider provider)
            => provider.FindTable(typeof(OutboxRecord)) ?? throw new InvalidOperationException(
                $"{provider.ContextName}'s model has no outbox table: call modelBuilder.AddOutbox() in {provider.ContextName}.OnModelCreating, then add a migration.");
    }

    private static void Parameter(DbBatchCommand command, object value)
    {
        var parameter = command.CreateParameter();
        parameter.Value = value;
        command.Parameters.Add(parameter);
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
