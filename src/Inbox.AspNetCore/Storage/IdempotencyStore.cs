using System.Data.Common;
using System.Runtime.CompilerServices;
using Inbox.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace Inbox.AspNetCore.Storage;

/// <summary>
/// The key table's statements on the DbContext's own connection and transaction. The insert is hand-written SQL
/// (EF Core has no insert that reports "already there" without an exception); reads and the completion are LINQ.
/// Identifiers come from the EF Core model and are quoted by the provider's own helper; resolved once per model.
/// </summary>
internal sealed class IdempotencyStore
{
    private const string LockNotAvailable = "55P03";
    private static readonly ConditionalWeakTable<IModel, IdempotencyStore> Cache = [];
    private readonly string _insert;
    private readonly string _insertNoWait;
    private readonly string _insertWaiting;
    private readonly string _purge;
    private readonly bool _postgres;

    private IdempotencyStore(string tableName, string insert, string purge, bool postgres)
    {
        TableName = tableName;
        _insert = insert;
        _purge = purge;
        _postgres = postgres;

        // PostgreSQL: a transaction-scoped advisory lock on the key's 64-bit hash comes before the insert, so that a
        // second request for a key in flight finds the lock taken rather than waiting on the first one's index entry.
        var (head, values) = (insert[..insert.IndexOf(" VALUES (", StringComparison.Ordinal)], insert[(insert.IndexOf(" VALUES (", StringComparison.Ordinal) + 9)..insert.LastIndexOf(") ON CONFLICT", StringComparison.Ordinal)]);
        const string Hash = "hashtextextended($1 || chr(10) || $2, 0)";
        _insertNoWait = $"{head} SELECT {values} WHERE pg_try_advisory_xact_lock({Hash}) ON CONFLICT DO NOTHING";
        _insertWaiting = $"{head} SELECT {values} FROM (SELECT pg_advisory_xact_lock({Hash})) AS l ON CONFLICT DO NOTHING";
    }

    /// <summary>The table's schema-qualified name, for logs and telemetry.</summary>
    public string TableName { get; }

    /// <summary>
    /// Whether the database has one writer at a time (SQLite): a request's transaction then holds every other writer
    /// until it commits, and SQLite's busy wait blocks a thread, so the runner queues such requests itself.
    /// </summary>
    public bool SingleWriter => !_postgres;

    /// <summary>Returns the store of this DbContext's model, or throws with the call that fixes the set-up.</summary>
    public static IdempotencyStore For(DbContext db)
    {
        if (!Cache.TryGetValue(db.Model, out var store))
        {
            store = Create(db);
            Cache.AddOrUpdate(db.Model, store);
        }

        return store;
    }

    /// <summary>
    /// Inserts the key in the current transaction. Returns <see langword="false"/> when the key is recorded already or,
    /// on PostgreSQL, held by another transaction that has not finished within <paramref name="wait"/> (the caller tells
    /// them apart by reading the key). SQLite has one writer, which the caller queues.
    /// </summary>
    public async Task<bool> TryInsertAsync(DbContext db, IdempotencyRecord record, TimeSpan wait, CancellationToken cancellationToken)
    {
        var connection = db.Database.GetDbConnection();
        var transaction = db.Database.CurrentTransaction?.GetDbTransaction()
            ?? throw new InvalidOperationException("The idempotency key is inserted inside the request's transaction.");
        if (!_postgres || wait <= TimeSpan.Zero)
        {
            // PostgreSQL: the insert takes the key's advisory lock first, without waiting; a transaction still holding
            // it means the key is in flight, and the insert then neither waits on the key's index entry nor inserts.
            await using var command = Command(connection, transaction, _postgres ? _insertNoWait : _insert, record, named: !_postgres);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
        }

        try
        {
            // Waiting for the key's first request: the same lock, awaited up to lock_timeout, for this statement only
            // (the endpoint's own statements keep the server's setting). One round trip.
            await using var batch = connection.CreateBatch();
            batch.Transaction = transaction;
            batch.BatchCommands.Add(Statement(batch, $"SET LOCAL lock_timeout = {Math.Max(1, (int)Math.Ceiling(wait.TotalMilliseconds))}"));
            var insert = Statement(batch, _insertWaiting);
            AddValues(insert.Parameters, insert.CreateParameter, record, named: false);
            batch.BatchCommands.Add(insert);
            batch.BatchCommands.Add(Statement(batch, "SET LOCAL lock_timeout TO DEFAULT"));
            await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return insert.RecordsAffected == 1;
        }
        catch (DbException exception) when (exception.SqlState == LockNotAvailable)
        {
            throw new IdempotencyKeyInFlightException(exception);
        }
    }

    /// <summary>Deletes at most <paramref name="limit"/> keys created before <paramref name="cutoff"/>, skipping any a request holds.</summary>
    public async Task<int> PurgeAsync(DbContext db, DateTimeOffset cutoff, int limit, CancellationToken cancellationToken)
    {
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var command = connection.CreateCommand();
            command.CommandText = _purge;
            foreach (var (name, value) in new (string, object)[] { ("@cutoff", cutoff), ("@limit", limit) })
            {
                var parameter = command.CreateParameter();
                parameter.ParameterName = _postgres ? "" : name;
                parameter.Value = value;
                command.Parameters.Add(parameter);
            }

            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await db.Database.CloseConnectionAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Reads a committed key and its response.</summary>
    public Task<IdempotencyRecord?> FindAsync(DbContext db, string scope, string key, CancellationToken cancellationToken)
        => db.Set<IdempotencyRecord>().AsNoTracking().FirstOrDefaultAsync(r => r.Scope == scope && r.Key == key, cancellationToken);

    /// <summary>Deletes a key (an expired one, before it is used again).</summary>
    public Task<int> DeleteAsync(DbContext db, string scope, string key, CancellationToken cancellationToken)
        => db.Set<IdempotencyRecord>().Where(r => r.Scope == scope && r.Key == key).ExecuteDeleteAsync(cancellationToken);

    /// <summary>Marks the inserted key's response for the next SaveChanges, which sends it with the endpoint's pending writes.</summary>
    public void Complete(DbContext db, IdempotencyRecord record)
    {
        var entry = db.Attach(record);
        entry.Property(r => r.StatusCode).IsModified = true;
        entry.Property(r => r.Headers).IsModified = true;
        entry.Property(r => r.Body).IsModified = true;
        entry.Property(r => r.BodyOmitted).IsModified = true;
    }

    /// <summary>Marks the inserted key for deletion by the next SaveChanges.</summary>
    public void Remove(DbContext db, IdempotencyRecord record) => db.Remove(db.Attach(record).Entity);

    private static IdempotencyStore Create(DbContext db)
    {
        var contextName = db.GetType().Name;
        var postgres = InboxDialects.IsPostgreSql(db);

        var entity = db.Model.FindEntityType(typeof(IdempotencyRecord))
            ?? throw new InvalidOperationException(
                $"{contextName}'s model has no idempotency key table: call modelBuilder.AddIdempotencyKeys() in {contextName}.OnModelCreating, then add a migration.");

        var sql = db.GetService<ISqlGenerationHelper>();
        var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        string Column(string property) => sql.DelimitIdentifier(entity.FindProperty(property)!.GetColumnName(table)!);
        string[] values = postgres ? ["$1", "$2", "$3", "$4", "0", "FALSE"] : ["@scope", "@key", "@fingerprint", "@created", "0", "0"];
        var insert =
            $"INSERT INTO {sql.DelimitIdentifier(table.Name, table.Schema)} " +
            $"({Column(nameof(IdempotencyRecord.Scope))}, {Column(nameof(IdempotencyRecord.Key))}, {Column(nameof(IdempotencyRecord.Fingerprint))}, " +
            $"{Column(nameof(IdempotencyRecord.CreatedAt))}, {Column(nameof(IdempotencyRecord.StatusCode))}, {Column(nameof(IdempotencyRecord.BodyOmitted))}) " +
            $"VALUES ({string.Join(", ", values)}) ON CONFLICT DO NOTHING";
        var qualified = sql.DelimitIdentifier(table.Name, table.Schema);
        var created = Column(nameof(IdempotencyRecord.CreatedAt));
        var purge = postgres
            ? $"DELETE FROM {qualified} WHERE ctid = ANY(ARRAY(SELECT ctid FROM {qualified} WHERE {created} < $1 LIMIT $2 FOR UPDATE SKIP LOCKED))"
            : $"DELETE FROM {qualified} WHERE rowid IN (SELECT rowid FROM {qualified} WHERE {created} < @cutoff LIMIT @limit)";
        return new IdempotencyStore(table.Schema is null ? table.Name : $"{table.Schema}.{table.Name}", insert, purge, postgres);
    }

    private static DbBatchCommand Statement(DbBatch batch, string text)
    {
        var command = batch.CreateBatchCommand();
        command.CommandText = text;
        return command;
    }

    private static DbCommand Command(DbConnection connection, DbTransaction transaction, string text, IdempotencyRecord record, bool named)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = text;
        AddValues(command.Parameters, command.CreateParameter, record, named);
        return command;
    }

    private static void AddValues(DbParameterCollection parameters, Func<DbParameter> create, IdempotencyRecord record, bool named)
    {
        void Add(string name, object value)
        {
            var parameter = create();
            parameter.ParameterName = named ? name : "";
            parameter.Value = value;
            parameters.Add(parameter);
        }

        Add("@scope", record.Scope);
        Add("@key", record.Key);
        Add("@fingerprint", record.Fingerprint);
        Add("@created", record.CreatedAt);
    }
}
