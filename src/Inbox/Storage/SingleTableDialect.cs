using Inbox.Purging;
using Inbox.Storage.Providers;
using Microsoft.EntityFrameworkCore;

namespace Inbox.Storage;

/// <summary>
/// An inbox kept in one table whose expired records are deleted row by row (<see cref="InboxRetention.Delete"/>): one
/// insert statement per engine, and the provider's purge statement.
/// </summary>
internal abstract class SingleTableDialect : InboxDialect
{
    private readonly string _purge;

    protected SingleTableDialect(StorageProvider provider, InboxTableNames names)
        : base(provider, names)
    {
        _purge = provider.PurgeStatement(names.Table, names.ProcessedAt);
        Retention = new RowDeletion(this);
    }

    public override InboxRetentionStrategy Retention { get; }

    /// <summary>The statement that records one ID, with parameters consumer, message ID, time and fingerprint.</summary>
    protected abstract string InsertOneSql { get; }

    public override async Task<bool> TryInsertAsync(DbContext db, string consumer, string messageId, DateTimeOffset processedAt, byte[]? fingerprint, CancellationToken cancellationToken)
    {
        await using var command = CreateCommand(db, InsertOneSql);
        AddParameter(command, Provider.ParameterName("c"), consumer);
        AddParameter(command, Provider.ParameterName("m"), messageId);
        AddParameter(command, Provider.ParameterName("t"), processedAt);
        AddParameter(command, Provider.ParameterName("f"), fingerprint);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    /// <summary>
    /// Deletes at most <paramref name="limit"/> records processed before <paramref name="cutoff"/>, in its own
    /// transaction inside the DbContext's execution strategy. Returns how many, or -1 when another purger holds the table.
    /// </summary>
    public Task<int> PurgeAsync(DbContext db, DateTimeOffset cutoff, int limit, CancellationToken cancellationToken)
        => db.Database.CreateExecutionStrategy().ExecuteAsync(
            (Self: this, Cutoff: cutoff, Limit: limit),
            static (db, s, ct) => s.Self.PurgeOnceAsync(db, s.Cutoff, s.Limit, ct),
            verifySucceeded: null,
            cancellationToken);

    /// <summary>Takes the table's purge lock for the current transaction, if the engine has one; false when another holds it.</summary>
    protected virtual Task<bool> TryLockPurgeAsync(DbContext db, CancellationToken cancellationToken) => Task.FromResult(true);

    private async Task<int> PurgeOnceAsync(DbContext db, DateTimeOffset cutoff, int limit, CancellationToken cancellationToken)
    {
        var transaction = await db.Database.BeginTransactionAsync(IsolationLevel, cancellationToken).ConfigureAwait(false);
        await using (transaction.ConfigureAwait(false))
        {
            if (!await TryLockPurgeAsync(db, cancellationToken).ConfigureAwait(false))
            {
                return -1;
            }

            await using var command = CreateCommand(db, _purge);
            AddParameter(command, Provider.ParameterName("cutoff"), cutoff);
            AddParameter(command, Provider.ParameterName("limit"), limit);
            var deleted = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return deleted;
        }
    }
}
