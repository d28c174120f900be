using System.Data;
using Inbox.Storage.Providers;
using Microsoft.EntityFrameworkCore;

namespace Inbox.Storage;

/// <summary>
/// The inbox table on PostgreSQL: arrays with <c>unnest</c>, so that a batch of any size is one statement text.
/// </summary>
internal sealed class PostgreSqlDialect : SingleTableDialect
{
    private readonly string _insertOne;
    private readonly string _insertMany;
    private readonly string _selectFingerprints;
    private readonly string _selectFingerprint;

    public PostgreSqlDialect(StorageProvider provider, InboxTableNames names)
        : base(provider, names)
    {
        var columns = $"{names.Consumer}, {names.MessageId}, {names.ProcessedAt}, {names.Fingerprint}";
        _insertOne = $"INSERT INTO {names.Table} ({columns}) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";

        // WITH ORDINALITY keeps the caller's sort order, so every delivery locks keys in the same order. One row comes
        // back: NULL when every ID was new (the common case), else the IDs that were (an empty array when none was: an
        // aggregate over no rows is NULL, hence the coalesce). Returning each inserted ID as a
        // row of its own cost PostgreSQL about as much CPU as the insert itself (docs/benchmarks.md).
        _insertMany =
            $"WITH ins AS (INSERT INTO {names.Table} ({columns}) " +
            "SELECT $1, u.id, $3, u.fp FROM unnest($2::text[], $4::bytea[]) WITH ORDINALITY AS u(id, fp, ord) ORDER BY u.ord " +
            $"ON CONFLICT DO NOTHING RETURNING {names.MessageId}) " +
            $"SELECT CASE WHEN count(*) = cardinality($2::text[]) THEN NULL ELSE coalesce(array_agg({names.MessageId}), '{{}}') END FROM ins";
        _selectFingerprints =
            $"SELECT {names.MessageId}, {names.Fingerprint} FROM {names.Table} WHERE {names.Consumer} = $1 AND {names.MessageId} = ANY($2)";

        // One ID, the common case (a single message's lookup): plain equality, without the array's scan-key handling.
        _selectFingerprint =
            $"SELECT {names.MessageId}, {names.Fingerprint} FROM {names.Table} WHERE {names.Consumer} = $1 AND {names.MessageId} = $2";
    }

    public override IsolationLevel IsolationLevel => IsolationLevel.ReadCommitted;

    public override async Task<HashSet<string>> InsertManyAsync(DbContext db, string consumer, IReadOnlyList<InboxMessage> sortedMessages, DateTimeOffset processedAt, CancellationToken cancellationToken)
    {
        var (ids, fingerprints) = Columns(sortedMessages);

        await using var command = CreateCommand(db, _insertMany);
        AddParameter(command, "", consumer);
        AddParameter(command, "", ids);
        AddParameter(command, "", processedAt);
        AddParameter(command, "", fingerprints);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return reader.IsDBNull(0) ? new HashSet<string>(ids, StringComparer.Ordinal) : new HashSet<string>(reader.GetFieldValue<string[]>(0), StringComparer.Ordinal);
    }

    public override async Task<Dictionary<string, byte[]?>> GetFingerprintsAsync(DbContext db, string consumer, IReadOnlyList<string> messageIds, CancellationToken cancellationToken)
    {
        var one = messageIds.Count == 1;
        await using var command = CreateCommand(db, one ? _selectFingerprint : _selectFingerprints);
        AddParameter(command, "", consumer);
        AddParameter(command, "", one ? messageIds[0] : messageIds.ToArray());
        return await ReadFingerprintsAsync(command, cancellationToken).ConfigureAwait(false);
    }

    protected override string InsertOneSql => _insertOne;

    // One purger per table across every instance: the others skip this pass instead of fighting over rows.
    protected override async Task<bool> TryLockPurgeAsync(DbContext db, CancellationToken cancellationToken)
    {
        await using var command = CreateCommand(db, "SELECT pg_try_advisory_xact_lock(hashtext($1))");
        AddParameter(command, "", "inbox-purge:" + Names.QualifiedName);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is true;
    }
}
