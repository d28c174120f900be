using Microsoft.EntityFrameworkCore;

namespace Inbox.Purging;

/// <summary>
/// Another table of the DbContext that the inbox's purger trims on each pass, after the inbox table (the idempotency
/// keys of Inbox.AspNetCore). Registered as <c>IPurgeTarget&lt;TDbContext&gt;</c>.
/// </summary>
/// <typeparam name="TDbContext">The DbContext whose purger runs it.</typeparam>
internal interface IPurgeTarget<TDbContext>
    where TDbContext : DbContext
{
    /// <summary>The table's name, for logs and telemetry.</summary>
    string TableName(TDbContext db);

    /// <summary>Rows created before this, as of <paramref name="now"/>, have expired.</summary>
    DateTimeOffset Cutoff(DateTimeOffset now);

    /// <summary>Deletes at most <paramref name="limit"/> rows created before <paramref name="cutoff"/>; returns how many.</summary>
    Task<int> PurgeAsync(TDbContext db, DateTimeOffset cutoff, int limit, CancellationToken cancellationToken);
}
