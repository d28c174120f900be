using Inbox.Storage;
using Microsoft.EntityFrameworkCore;

namespace Inbox.Purging;

/// <summary>Retention by DELETE: records older than the window go row by row, in bounded batches.</summary>
internal sealed class RowDeletion(SingleTableDialect dialect) : InboxRetentionStrategy
{
    public override int WindowsKept => 1;

    public override bool SupportsOneRoundTrip => true;

    public override Task<long> RetireAsync(DbContext db, PurgePass pass, CancellationToken cancellationToken)
    {
        var cutoff = pass.Now - pass.Options.DeduplicationWindow;
        return PurgeLoop.RunAsync(dialect.TableName, cutoff, limit => dialect.PurgeAsync(db, cutoff, limit, cancellationToken), pass);
    }
}
