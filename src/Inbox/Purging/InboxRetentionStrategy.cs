using Microsoft.EntityFrameworkCore;

namespace Inbox.Purging;

/// <summary>
/// How an inbox table lets expired records go (<see cref="InboxRetention"/>): chosen once per model with the table's
/// dialect, so that the purger, the health check and the start-up check ask it instead of testing types.
/// </summary>
internal abstract class InboxRetentionStrategy
{
    /// <summary>How many deduplication windows old the oldest record kept may be when the purger keeps up.</summary>
    public abstract int WindowsKept { get; }

    /// <summary>Whether <see cref="InboxOptions.OneRoundTrip"/> works with it.</summary>
    public abstract bool SupportsOneRoundTrip { get; }

    /// <summary>One pass over the inbox table; returns about how many records it removed.</summary>
    public abstract Task<long> RetireAsync(DbContext db, PurgePass pass, CancellationToken cancellationToken);
}
