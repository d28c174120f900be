using Inbox.Outbox.Storage;
using Microsoft.EntityFrameworkCore;

namespace Inbox.Outbox.Dispatching;

/// <summary>How much is waiting in an outbox table: for the gauges and the health check.</summary>
internal readonly record struct OutboxBacklog(long Pending, DateTimeOffset? OldestCreatedAt, long Failed)
{
    public static async Task<OutboxBacklog> ReadAsync(DbContext db, CancellationToken cancellationToken)
    {
        var rows = db.Set<OutboxRecord>().AsNoTracking();
        var pending = await rows.Where(r => r.FailedAt == null).LongCountAsync(cancellationToken).ConfigureAwait(false);
        // The lowest ID is the oldest: IDs are assigned as rows are saved. (SQLite cannot order or aggregate DateTimeOffset.)
        var oldest = pending == 0
            ? null
            : await rows.Where(r => r.FailedAt == null).OrderBy(r => r.Id).Select(r => (DateTimeOffset?)r.CreatedAt).FirstOrDefaultAsync(cancellationToken).ConfigureAwait(false);
        var failed = await rows.Where(r => r.FailedAt != null).LongCountAsync(cancellationToken).ConfigureAwait(false);
        return new OutboxBacklog(pending, oldest, failed);
    }
}
