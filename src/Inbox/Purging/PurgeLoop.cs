using Inbox.Telemetry;

namespace Inbox.Purging;

/// <summary>
/// The one row-deletion loop, for the inbox table (retention by DELETE) and every other purge target: deletes expired
/// rows in bounded batches, looping while a batch comes back full, counting and logging what went.
/// </summary>
internal static class PurgeLoop
{
    /// <summary>Runs <paramref name="purgeBatch"/> (rows deleted, or -1 when another instance holds the table) until a batch is not full; returns the total.</summary>
    public static async Task<long> RunAsync(string table, DateTimeOffset cutoff, Func<int, Task<int>> purgeBatch, PurgePass pass)
    {
        var limit = pass.Options.PurgeBatchSize;
        long total = 0;
        int deleted;
        do
        {
            deleted = await purgeBatch(limit).ConfigureAwait(false);
            if (deleted < 0)
            {
                Log.PurgeSkipped(pass.Logger, table);
                break;
            }

            total += deleted;
            pass.Telemetry.RecordPurged(table, deleted);
        }
        while (deleted == limit);

        if (total > 0)
        {
            Log.Purged(pass.Logger, table, total, cutoff);
        }

        return total;
    }
}
