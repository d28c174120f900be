using Microsoft.EntityFrameworkCore;

namespace Inbox.Operations;

/// <summary>
/// The idempotency keys' table of <typeparamref name="TDbContext"/>, as the admin reads and changes it. Implemented by
/// <c>Inbox.AspNetCore</c>, which owns the table; absent when the application keeps no keys there.
/// </summary>
/// <typeparam name="TDbContext">The DbContext the keys are kept in.</typeparam>
internal interface IIdempotencyKeyTable<TDbContext>
    where TDbContext : DbContext
{
    /// <summary>The table's schema-qualified name.</summary>
    string Name(TDbContext db);

    /// <summary>How many keys are stored.</summary>
    Task<long> CountAsync(TDbContext db, CancellationToken cancellationToken);

    /// <summary>Deletes one key of one scope; returns how many rows went (0 or 1).</summary>
    Task<int> DeleteAsync(TDbContext db, string scope, string key, CancellationToken cancellationToken);
}
