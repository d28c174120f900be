using Inbox.Purging;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Inbox.AspNetCore.Storage;

/// <summary>Lets the inbox's purger delete keys older than <see cref="IdempotencyKeyOptions.DeduplicationWindow"/>, with the inbox's interval and batch size.</summary>
internal sealed class IdempotencyKeyPurgeTarget<TDbContext>(IOptionsMonitor<IdempotencyKeyOptions> options) : IPurgeTarget<TDbContext>
    where TDbContext : DbContext
{
    public string TableName(TDbContext db) => IdempotencyStore.For(db).TableName;

    public DateTimeOffset Cutoff(DateTimeOffset now) => now - options.CurrentValue.DeduplicationWindow;

    public Task<int> PurgeAsync(TDbContext db, DateTimeOffset cutoff, int limit, CancellationToken cancellationToken)
        => IdempotencyStore.For(db).PurgeAsync(db, cutoff, limit, cancellationToken);
}
