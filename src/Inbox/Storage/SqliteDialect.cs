using System.Data;
using System.Text;
using Inbox.Storage.Providers;
using Microsoft.EntityFrameworkCore;

namespace Inbox.Storage;

/// <summary>
/// The inbox table on SQLite. A transaction takes the database's write lock at <c>BEGIN IMMEDIATE</c>, so concurrent
/// units queue instead of failing.
/// </summary>
internal sealed class SqliteDialect : SingleTableDialect
{
    // SQLite allows 32,766 variables per statement; 4 per row and a margin.
    private const int RowsPerStatement = 500;

    private readonly string _columns;
    private readonly string _insertOne;

    public SqliteDialect(StorageProvider provider, InboxTableNames names)
        : base(provider, names)
    {
        _columns = $"{names.Consumer}, {names.MessageId}, {names.ProcessedAt}, {names.Fingerprint}";
        _insertOne = $"INSERT INTO {names.Table} ({_columns}) VALUES (@c, @m, @t, @f) ON CONFLICT DO NOTHING";
    }

    public override IsolationLevel IsolationLevel => IsolationLevel.Serializable;

    public override async Task<HashSet<string>> InsertManyAsync(DbContext db, string consumer, IReadOnlyList<InboxMessage> sortedMessages, DateTimeOffset processedAt, CancellationToken cancellationToken)
    {
        var inserted = new HashSet<string>(sortedMessages.Count, StringComparer.Ordinal);
        for (var start = 0; start < sortedMessages.Count; start += RowsPerStatement)
        {
            var count = Math.Min(RowsPerStatement, sortedMessages.Count - start);
            var sql = new StringBuilder($"INSERT INTO {Names.Table} ({_columns}) VALUES ");
            await using var command = CreateCommand(db, "");
            AddParameter(command, "@c", consumer);
            AddParameter(command, "@t", processedAt);
            for (var i = 0; i < count; i++)
            {
                sql.Append(i == 0 ? "" : ", ").Append($"(@c, @m{i}, @t, @f{i})");
                AddParameter(command, $"@m{i}", sortedMessages[start + i].MessageId);
                AddParameter(command, $"@f{i}", sortedMessages[start + i].Fingerprint);
            }

            command.CommandText = sql.Append($" ON CONFLICT DO NOTHING RETURNING {Names.MessageId}").ToString();
            await ReadIdsAsync(command, inserted, cancellationToken).ConfigureAwait(false);
        }

        return inserted;
    }

    public override async Task<Dictionary<string, byte[]?>> GetFingerprintsAsync(DbContext db, string consumer, IReadOnlyList<string> messageIds, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, byte[]?>(StringComparer.Ordinal);
        for (var start = 0; start < messageIds.Count; start += RowsPerStatement)
        {
            var count = Math.Min(RowsPerStatement, messageIds.Count - start);
            await using var command = CreateCommand(db, "");
            AddParameter(command, "@c", consumer);
            var list = new StringBuilder();
            for (var i = 0; i < count; i++)
            {
                list.Append(i == 0 ? "" : ", ").Append($"@m{i}");
                AddParameter(command, $"@m{i}", messageIds[start + i]);
            }

            command.CommandText =
                $"SELECT {Names.MessageId}, {Names.Fingerprint} FROM {Names.Table} WHERE {Names.Consumer} = @c AND {Names.MessageId} IN ({list})";
            foreach (var (id, fingerprint) in await ReadFingerprintsAsync(command, cancellationToken).ConfigureAwait(false))
            {
                result[id] = fingerprint;
            }
        }

        return result;
    }

    protected override string InsertOneSql => _insertOne;
}
