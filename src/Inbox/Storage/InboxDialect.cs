using System.Data;
using System.Data.Common;
using Inbox.Purging;
using Inbox.Storage.Providers;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Inbox.Storage;

/// <summary>
/// The SQL of one database engine for one inbox table. Statements run as plain ADO.NET commands on the
/// DbContext's own connection and transaction: EF Core's LINQ pipeline has no upsert with "rows inserted"
/// feedback, and this is the per-message hot path, so it is worth a handful of hand-written statements.
/// Identifiers come from the EF Core model and are quoted by the provider's own helper.
/// </summary>
internal abstract class InboxDialect
{
    protected InboxDialect(StorageProvider provider, InboxTableNames names)
    {
        Provider = provider;
        Names = names;
    }

    /// <summary>The engine and model this dialect's table belongs to.</summary>
    public StorageProvider Provider { get; }

    protected InboxTableNames Names { get; }

    /// <summary>The table's schema-qualified name, for logs and telemetry.</summary>
    public string TableName => Names.QualifiedName;

    /// <summary>How expired records of this table go: row by row, or by generations.</summary>
    public abstract InboxRetentionStrategy Retention { get; }

    /// <summary>
    /// Whether a unit of work may save the record with the handler's writes in one round trip
    /// (<see cref="InboxOptions.OneRoundTrip"/>): the engine runs a batch as one transaction and the retention allows it.
    /// </summary>
    public bool SupportsOneRoundTrip => Provider.BatchIsOneTransaction && Retention.SupportsOneRoundTrip;

    /// <summary>The isolation level of a unit of work.</summary>
    public abstract IsolationLevel IsolationLevel { get; }

    /// <summary>Records one message ID. Returns <see langword="false"/> when it was recorded already.</summary>
    public abstract Task<bool> TryInsertAsync(DbContext db, string consumer, string messageId, DateTimeOffset processedAt, byte[]? fingerprint, CancellationToken cancellationToken);

    /// <summary>Records many message IDs (sorted by the caller) in one statement; returns the IDs that were new.</summary>
    public abstract Task<HashSet<string>> InsertManyAsync(DbContext db, string consumer, IReadOnlyList<InboxMessage> sortedMessages, DateTimeOffset processedAt, CancellationToken cancellationToken);

    /// <summary>Reads the stored fingerprints of the given IDs.</summary>
    public abstract Task<Dictionary<string, byte[]?>> GetFingerprintsAsync(DbContext db, string consumer, IReadOnlyList<string> messageIds, CancellationToken cancellationToken);

    /// <summary>Returns when the oldest record was processed, or <see langword="null"/> for an empty table.</summary>
    public virtual Task<DateTimeOffset?> GetOldestAsync(DbContext db, CancellationToken cancellationToken)
        => OnConnectionAsync(db, async () =>
        {
            await using var command = CreateCommand(db, $"SELECT min({Names.ProcessedAt}) FROM {Names.Table}");
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) && !await reader.IsDBNullAsync(0, cancellationToken).ConfigureAwait(false)
                ? reader.GetFieldValue<DateTimeOffset>(0)
                : (DateTimeOffset?)null;
        }, cancellationToken);

    /// <summary>Per consumer, how many records and when the oldest was processed; by consumer name.</summary>
    public virtual Task<List<(string Consumer, long Records, DateTimeOffset? Oldest)>> CountByConsumerAsync(DbContext db, CancellationToken cancellationToken)
        => ReadCountsAsync(
            db,
            $"SELECT {Names.Consumer}, count(*), min({Names.ProcessedAt}) FROM {Names.Table} GROUP BY {Names.Consumer} ORDER BY {Names.Consumer}",
            cancellationToken);

    /// <summary>Deletes the record of one message ID for one consumer, in one statement; returns the rows deleted.</summary>
    public virtual Task<int> DeleteAsync(DbContext db, string consumer, string messageId, CancellationToken cancellationToken)
        => OnConnectionAsync(db, async () =>
        {
            await using var command = MessageCommand(
                db, $"DELETE FROM {Names.Table} WHERE {Names.Consumer} = {Placeholder(1, "c")} AND {Names.MessageId} = {Placeholder(2, "m")}", consumer, messageId);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    /// <summary>
    /// Runs <paramref name="work"/> with the DbContext's connection open (opened and closed here, unless it already was,
    /// in the caller's transaction): for statements outside a unit of work.
    /// </summary>
    protected static async Task<T> OnConnectionAsync<T>(DbContext db, Func<Task<T>> work, CancellationToken cancellationToken)
    {
        await db.Database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await work().ConfigureAwait(false);
        }
        finally
        {
            await db.Database.CloseConnectionAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Reads (consumer, count, oldest) rows on the DbContext's connection.</summary>
    protected static Task<List<(string Consumer, long Records, DateTimeOffset? Oldest)>> ReadCountsAsync(DbContext db, string sql, CancellationToken cancellationToken)
        => OnConnectionAsync(db, async () =>
        {
            var counts = new List<(string, long, DateTimeOffset?)>();
            await using var command = CreateCommand(db, sql);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                counts.Add((reader.GetString(0), reader.GetInt64(1), reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2)));
            }

            return counts;
        }, cancellationToken);

    /// <summary>A statement with the consumer and the message ID as its two parameters (<c>c</c> and <c>m</c>, or <c>$1</c> and <c>$2</c>).</summary>
    protected DbCommand MessageCommand(DbContext db, string sql, string consumer, string messageId)
    {
        var command = CreateCommand(db, sql);
        AddParameter(command, Provider.ParameterName("c"), consumer);
        AddParameter(command, Provider.ParameterName("m"), messageId);
        return command;
    }

    /// <summary>A statement's parameter as the engine writes it: PostgreSQL's by position, SQLite's by name.</summary>
    protected string Placeholder(int position, string name)
        => Provider.ParameterName(name) is { Length: > 0 } named ? named : $"${position}";

    /// <summary>The IDs and fingerprints of a batch as two arrays, for statements that <c>unnest</c> them.</summary>
    protected static (string[] Ids, byte[]?[] Fingerprints) Columns(IReadOnlyList<InboxMessage> messages)
    {
        var ids = new string[messages.Count];
        var fingerprints = new byte[]?[messages.Count];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = messages[i].MessageId;
            fingerprints[i] = messages[i].Fingerprint;
        }

        return (ids, fingerprints);
    }

    protected static DbCommand CreateCommand(DbContext db, string sql)
    {
        var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = sql;
        command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
        if (db.Database.GetCommandTimeout() is { } timeout)
        {
            command.CommandTimeout = timeout;
        }

        return command;
    }

    protected static void AddParameter(DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
    }

    protected static async Task<Dictionary<string, byte[]?>> ReadFingerprintsAsync(DbCommand command, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, byte[]?>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            result[reader.GetString(0)] = reader.IsDBNull(1) ? null : (byte[])reader.GetValue(1);
        }

        return result;
    }

    protected static async Task<HashSet<string>> ReadIdsAsync(DbCommand command, HashSet<string> into, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            into.Add(reader.GetString(0));
        }

        return into;
    }
}
