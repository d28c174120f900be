using Inbox.Model;
using Inbox.Outbox.Storage;
using Inbox.Storage;
using Inbox.Telemetry;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Inbox.Operations;

/// <summary>
/// The operator's actions on the tables the DbContext's model maps. Each change is one statement: an
/// <c>ExecuteUpdate</c>/<c>ExecuteDelete</c>, or the inbox dialect's delete, which under generations removes the ID from
/// the three tables in one statement.
/// </summary>
internal sealed class InboxAdmin<TDbContext>(
    TDbContext db,
    InboxTelemetry telemetry,
    TimeProvider time,
    ILogger<IInboxAdmin<TDbContext>> logger,
    IIdempotencyKeyTable<TDbContext>? keys = null) : IInboxAdmin<TDbContext>
    where TDbContext : DbContext
{
    private const int MaxPage = 10_000;

    public async Task<InboxStatus> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        var readAt = time.GetUtcNow();
        InboxRetention? retention = null;
        long? generation = null;
        List<InboxConsumerStatus> inbox = [];
        if (HasInbox)
        {
            var dialect = InboxDialects.For(db);
            if (dialect is PostgreSqlGenerationsDialect generations)
            {
                retention = InboxRetention.Generations;
                generation = await generations.GetGenerationAsync(db, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                retention = InboxRetention.Delete;
            }

            var counts = await dialect.CountByConsumerAsync(db, cancellationToken).ConfigureAwait(false);
            inbox.AddRange(counts.Select(c => new InboxConsumerStatus(dialect.TableName, c.Consumer, c.Records, c.Oldest)));
        }

        var outbox = HasOutbox ? await OutboxStatusAsync(cancellationToken).ConfigureAwait(false) : [];
        return keys is null
            ? new InboxStatus(readAt, retention, generation, inbox, outbox, null, null)
            : new InboxStatus(readAt, retention, generation, inbox, outbox, keys.Name(db), await keys.CountAsync(db, cancellationToken).ConfigureAwait(false));
    }

    public async Task<IReadOnlyList<FailedOutboxMessage>> GetFailedOutboxMessagesAsync(string? destination = null, long afterId = 0, int limit = 100, CancellationToken cancellationToken = default)
    {
        if (destination is not null)
        {
            OperatorInput.ThrowIfNotAName(destination);
        }

        ArgumentOutOfRangeException.ThrowIfNegative(afterId);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, MaxPage);
        var rows = Failed().Where(r => r.Id > afterId);
        if (destination is not null)
        {
            rows = rows.Where(r => r.Destination == destination);
        }

        var page = await rows.OrderBy(r => r.Id).Take(limit)
            .Select(r => new { r.Id, r.MessageId, r.Transport, r.Destination, r.PartitionKey, r.Attempts, r.LastError, r.CreatedAt, r.FailedAt, BodyLength = r.Body.Length })
            .ToListAsync(cancellationToken).ConfigureAwait(false);
        return [.. page.Select(r => new FailedOutboxMessage(r.Id, r.MessageId, r.Transport, r.Destination, r.PartitionKey, r.Attempts, r.LastError, r.CreatedAt, r.FailedAt!.Value, r.BodyLength))];
    }

    public async Task<int> RetryFailedOutboxMessagesAsync(OutboxSelection selection, string reason, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(selection);
        OperatorInput.ThrowIfNoReason(reason);
        var table = OutboxTable;

        // The last error stays, to compare with the next one if the broker refuses the message again.
        var count = await Failed().Where(selection.Filter)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.FailedAt, (DateTimeOffset?)null).SetProperty(r => r.Attempts, 0), cancellationToken)
            .ConfigureAwait(false);
        Log.AdminOutboxRetried(logger, count, table, selection.ToString(), reason);
        telemetry.RecordAdminChange("retry", table, count);
        return count;
    }

    public async Task<int> DeleteFailedOutboxMessagesAsync(OutboxSelection selection, string reason, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(selection);
        if (selection.IsAll)
        {
            throw new ArgumentException("Delete failed outbox messages one at a time or by destination, not all at once.", nameof(selection));
        }

        OperatorInput.ThrowIfNoReason(reason);
        var table = OutboxTable;
        var count = await Failed().Where(selection.Filter).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
        Log.AdminOutboxDeleted(logger, count, table, selection.ToString(), reason);
        telemetry.RecordAdminChange("delete", table, count);
        return count;
    }

    public async Task<bool> ForgetAsync(string consumer, string messageId, string reason, CancellationToken cancellationToken = default)
    {
        OperatorInput.ThrowIfNotAName(consumer);
        OperatorInput.ThrowIfNotAName(messageId);
        OperatorInput.ThrowIfNoReason(reason);
        if (!HasInbox)
        {
            throw new InvalidOperationException($"{typeof(TDbContext).Name}'s model has no inbox table: call modelBuilder.AddInbox() in OnModelCreating.");
        }

        var dialect = InboxDialects.For(db);
        var count = await dialect.DeleteAsync(db, consumer, messageId, cancellationToken).ConfigureAwait(false);
        Log.AdminForgot(logger, messageId, consumer, dialect.TableName, count, reason);
        telemetry.RecordAdminChange("forget", dialect.TableName, count);
        return count > 0;
    }

    public async Task<bool> ForgetIdempotencyKeyAsync(string scope, string key, string reason, CancellationToken cancellationToken = default)
    {
        OperatorInput.ThrowIfNotAName(scope, newLines: true);
        OperatorInput.ThrowIfNotAName(key);
        OperatorInput.ThrowIfNoReason(reason);
        if (keys is null)
        {
            throw new InvalidOperationException($"The application keeps no idempotency keys in {typeof(TDbContext).Name}: it calls no services.AddIdempotencyKeys<{typeof(TDbContext).Name}>().");
        }

        var table = keys.Name(db);
        var count = await keys.DeleteAsync(db, scope, key, cancellationToken).ConfigureAwait(false);
        Log.AdminKeyForgot(logger, key, scope, table, count, reason);
        telemetry.RecordAdminChange("forget_key", table, count);
        return count > 0;
    }

    private bool HasInbox => db.Model.FindEntityType(typeof(InboxRecord)) is not null || db.Model.FindAnnotation(InboxGenerations.Annotation) is not null;

    private bool HasOutbox => db.Model.FindEntityType(typeof(OutboxRecord)) is not null;

    private string OutboxTable => HasOutbox
        ? OutboxStore.For(db).Table
        : throw new InvalidOperationException($"{typeof(TDbContext).Name}'s model has no outbox table: call modelBuilder.AddOutbox() in OnModelCreating.");

    private IQueryable<OutboxRecord> Failed() => db.Set<OutboxRecord>().Where(r => r.FailedAt != null);

    private async Task<List<OutboxDestinationStatus>> OutboxStatusAsync(CancellationToken cancellationToken)
    {
        var table = OutboxStore.For(db).Table;

        // Counts and the rows that date each group by ID, the lowest pending and the highest failed: IDs follow the order
        // rows were saved, and SQLite can neither order nor aggregate a DateTimeOffset.
        var groups = await db.Set<OutboxRecord>().AsNoTracking()
            .GroupBy(r => new { r.Transport, r.Destination })
            .Select(g => new
            {
                g.Key.Transport,
                g.Key.Destination,
                Pending = g.LongCount(r => r.FailedAt == null),
                OldestPendingId = g.Where(r => r.FailedAt == null).Min(r => (long?)r.Id),
                Failed = g.LongCount(r => r.FailedAt != null),
                LastFailedId = g.Where(r => r.FailedAt != null).Max(r => (long?)r.Id),
            })
            .OrderBy(g => g.Transport).ThenBy(g => g.Destination)
            .ToListAsync(cancellationToken).ConfigureAwait(false);

        var ids = groups.SelectMany(g => new[] { g.OldestPendingId, g.LastFailedId }).OfType<long>().ToList();
        var dating = await db.Set<OutboxRecord>().AsNoTracking().Where(r => ids.Contains(r.Id))
            .Select(r => new { r.Id, r.CreatedAt, r.LastError })
            .ToDictionaryAsync(r => r.Id, cancellationToken).ConfigureAwait(false);
        return [.. groups.Select(g => new OutboxDestinationStatus(
            table,
            g.Transport,
            g.Destination,
            g.Pending,
            g.OldestPendingId is { } pending && dating.TryGetValue(pending, out var oldest) ? oldest.CreatedAt : null,
            g.Failed,
            g.LastFailedId is { } failed && dating.TryGetValue(failed, out var last) ? last.LastError : null))];
    }
}
