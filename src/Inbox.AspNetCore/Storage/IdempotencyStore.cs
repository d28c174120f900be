using System.Data.Common;
using Inbox.Storage.Providers;
using Microsoft.EntityFrameworkCore;
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
    private static readonly IStatementSet<IdempotencyStore> Statements = new StatementSet();
    private readonly StorageProvider _provider;
    private readonly string _insert;
    private readonly string _insertWaiting;
    private readonly string _purge;

    private IdempotencyStore(StorageProvider provider, ModelTable table, string insert, string insertWaiting)
    {
        _provider = provider;
        TableName = table.QualifiedName;
        _insert = insert;
        _insertWaiting = insertWaiting;
        _purge = provider.PurgeStatement(table.Quoted, table.Column(nameof(IdempotencyRecord.CreatedAt)));
    }

    /// <summary>The table's schema-qualified name, for logs and telemetry.</summary>
    public string TableName { get; }

    /// <summary>
    /// Whether the database has one writer at a time (SQLite): a request's transaction then holds every other writer
    /// until it commits, and SQLite's busy wait blocks a thread, so the runner queues such requests itself.
    /// </summary>
    public bool SingleWriter => _provider.SingleWriter;

    /// <summary>Returns the store of this DbContext's model, or throws with the call that fixes the set-up.</summary>
    public static IdempotencyStore For(DbContext db) => StorageProvider.For(db).Statements(Statements);

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
        if (!_provider.HasAdvisoryLocks || wait <= TimeSpan.Zero)
        {
            // With advisory locks the insert takes the key's lock first, without waiting; a transaction still holding
            // it means the key is in flight, and the insert then neither waits on the key's index entry nor inserts.
            await using var command = Command(connection, transaction, _insert, record);
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
            AddValues(insert.Parameters, insert.CreateParameter, record);
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
            foreach (var (name, value) in new (string, object)[] { ("cutoff", cutoff), ("limit", limit) })
            {
                var parameter = command.CreateParameter();
                parameter.ParameterName = _provider.ParameterName(name);
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

    private static DbBatchCommand Statement(DbBatch batch, string text)
    {
        var command = batch.CreateBatchCommand();
        command.CommandText = text;
        return command;
    }

    private DbCommand Command(DbConnection connection, DbTransaction transaction, string text, IdempotencyRecord record)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = text;
        AddValues(command.Parameters, command.CreateParameter, record);
        return command;
    }

    private void AddValues(DbParameterCollection parameters, Func<DbParameter> create, IdempotencyRecord record)
    {
        void Add(string name, object value)
        {
            var parameter = create();
            parameter.ParameterName = _provider.ParameterName(name);
            parameter.Value = value;
            parameters.Add(parameter);
        }

        Add("scope", record.Scope);
        Add("key", record.Key);
        Add("fingerprint", record.Fingerprint);
        Add("created", record.CreatedAt);
    }

    /// <summary>The insert per engine: on PostgreSQL behind the key's advisory lock, taken or awaited; on SQLite plain.</summary>
    private sealed class StatementSet : IStatementSet<IdempotencyStore>
    {
        public IdempotencyStore ForPostgreSql(StorageProvider provider)
        {
            var table = Mapped(provider);

            // A transaction-scoped advisory lock on the key's 64-bit hash comes before the insert, so that a second
            // request for a key in flight finds the lock taken rather than waiting on the first one's index entry.
            const string Values = "$1, $2, $3, $4, 0, FALSE";
            const string Hash = "hashtextextended($1 || chr(10) || $2, 0)";
            var head = InsertHead(table);
            return new IdempotencyStore(
                provider,
                table,
                insert: $"{head} SELECT {Values} WHERE pg_try_advisory_xact_lock({Hash}) ON CONFLICT DO NOTHING",
                insertWaiting: $"{head} SELECT {Values} FROM (SELECT pg_advisory_xact_lock({Hash})) AS l ON CONFLICT DO NOTHING");
        }

        // One writer at a time: the caller queues the requests, so the insert needs no lock and never waits.
        public IdempotencyStore ForSqlite(StorageProvider provider)
        {
            var table = Mapped(provider);
            var insert = $"{InsertHead(table)} VALUES (@scope, @key, @fingerprint, @created, 0, 0) ON CONFLICT DO NOTHING";
            return new IdempotencyStore(provider, table, insert, insertWaiting: insert);
        }

        private static string InsertHead(ModelTable table)
            => $"INSERT INTO {table.Quoted} " +
                $"({table.Column(nameof(IdempotencyRecord.Scope))}, {table.Column(nameof(IdempotencyRecord.Key))}, {table.Column(nameof(IdempotencyRecord.Fingerprint))}, " +
                $"{table.Column(nameof(IdempotencyRecord.CreatedAt))}, {table.Column(nameof(IdempotencyRecord.StatusCode))}, {table.Column(nameof(IdempotencyRecord.BodyOmitted))})";

        private static ModelTable Mapped(StorageProvider provider)
            => provider.FindTable(typeof(IdempotencyRecord)) ?? throw new InvalidOperationException(
                $"{provider.ContextName}'s model has no idempotency key table: call modelBuilder.AddIdempotencyKeys() in {provider.ContextName}.OnModelCreating, then add a migration.");
    }
}
