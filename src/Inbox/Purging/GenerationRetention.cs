using Inbox.Storage;
using Inbox.Telemetry;
using Microsoft.EntityFrameworkCore;

namespace Inbox.Purging;

/// <summary>
/// Retention by generations (PostgreSQL): rotates and settles as due, waiting for settling up to a tenth of the purge
/// interval (at most 5 s) in this pass. The previous generation is kept whole, so records are up to two windows old.
/// </summary>
internal sealed class GenerationRetention(PostgreSqlGenerationsDialect generations) : InboxRetentionStrategy
{
    public override int WindowsKept => 2;

    public override bool SupportsOneRoundTrip => false;

    public override async Task<long> RetireAsync(DbContext db, PurgePass pass, CancellationToken cancellationToken)
    {
        var options = pass.Options;
        var table = generations.TableName;
        var settleWait = TimeSpan.FromTicks(Math.Min(options.PurgeInterval.Ticks / 10, TimeSpan.FromSeconds(5).Ticks));
        var truncated = await generations.RetireAsync(db, pass.Time, options.DeduplicationWindow, settleWait, e =>
        {
            switch (e.Kind)
            {
                case GenerationEventKind.Rotated:
                    Log.GenerationRotated(pass.Logger, table, e.Generation);
                    break;
                case GenerationEventKind.Settled:
                    Log.GenerationSettled(pass.Logger, table, e.Generation, e.Count, e.Elapsed);
                    pass.Telemetry.RecordPurged(table, e.Count);
                    break;
                case GenerationEventKind.StillSettling when e.Elapsed > options.DeduplicationWindow:
                    Log.GenerationSettleSlow(pass.Logger, table, e.Generation, e.Elapsed);
                    break;
                case GenerationEventKind.TruncateBusy:
                    Log.GenerationTruncateBusy(pass.Logger, table);
                    break;
            }
        }, cancellationToken).ConfigureAwait(false);
        if (truncated < 0)
        {
            Log.PurgeSkipped(pass.Logger, table);
            return 0;
        }

        return truncated;
    }
}
