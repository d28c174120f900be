using Inbox.Operations;
using Microsoft.EntityFrameworkCore;

namespace Inbox.AspNetCore.Storage;

/// <summary>The idempotency keys' table as <c>IInboxAdmin</c> reads and changes it.</summary>
internal sealed class IdempotencyKeyTable<TDbContext> : IIdempotencyKeyTable<TDbContext>
    where TDbContext : DbContext
{
    public string Name(TDbContext db) => IdempotencyStore.For(db).TableName;

    public Task<long> CountAsync(TDbContext db, CancellationToken cancellationToken)
        => db.Set<IdempotencyRecord>().LongCountAsync(cancellationToken);

    public Task<int> DeleteAsync(TDbContext db, string scope, string key, CancellationToken cancellationToken)
        => IdempotencyStore.For(db).DeleteAsync(db, scope, key, cancellationToken);
}
