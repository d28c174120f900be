using Inbox.Processing;
using Inbox.Storage;
using Inbox.Telemetry;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Inbox.Purging;

/// <summary>
/// Deletes records older than the deduplication window: every <see cref="InboxOptions.PurgeInterval"/>, in
/// batches of <see cref="InboxOptions.PurgeBatchSize"/>, looping while a batch comes back full. A failed pass is
/// logged and tried again next interval; the host never stops because of it.
/// </summary>
internal sealed class InboxPurger<TDbContext>(
    IServiceScopeFactory scopes,
    InboxRuntime<TDbContext> runtime,
    IEnumerable<IPurgeTarget<TDbContext>> targets,
    ILogger<InboxPurger<TDbContext>> logger)
    : BackgroundService
    where TDbContext : DbContext
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!runtime.Options.PurgeEnabled)
        {
            Log.PurgeDisabled(logger, typeof(TDbContext).Name);
            return;
        }

        // Let the host finish starting before the first pass.
        await Task.Yield();
        while (!stoppingToken.IsCancellationRequested)
        {
            var interval = runtime.Options.PurgeInterval;
            try
            {
                await PurgeAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                Log.PurgeFailed(logger, typeof(TDbContext).Name, interval, exception);
            }

            try
            {
                await Task.Delay(interval, runtime.Time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task<long> PurgeTargetAsync(TDbContext db, IPurgeTarget<TDbContext> target, DateTimeOffset now, int limit, CancellationToken cancellationToken)
    {
        var table = target.TableName(db);
        var cutoff = target.Cutoff(now);
        long total = 0;
        int deleted;
        do
        {
            deleted = await target.PurgeAsync(db, cutoff, limit, cancellationToken).ConfigureAwait(false);
            total += deleted;
            runtime.Telemetry.RecordPurged(table, deleted);
        }
        while (deleted == limit);

        if (total > 0)
        {
            Log.Purged(logger, table, total, cutoff);
        }

        return total;
    }

    /// <summary>
    /// Retention by generations: rotates and settles as due, waiting for settling up to a tenth of the purge interval
    /// (at most 5 s) in this pass. Returns about how many records it truncated.
    /// </summary>
    private async Task<long> RetireGenerationsAsync(TDbContext db, PostgreSqlGenerationsDialect generations, CancellationToken cancellationToken)
    {
        var options = runtime.Options;
        var table = generations.TableName;
        var settleWait = TimeSpan.FromTicks(Math.Min(options.PurgeInterval.Ticks / 10, TimeSpan.FromSeconds(5).Ticks));
        var truncated = await generations.RetireAsync(db, runtime.Time, options.DeduplicationWindow, settleWait, e =>
        {
            switch (e.Kind)
            {
                case GenerationEventKind.Rotated:
                    Log.GenerationRotated(logger, table, e.Generation);
                    break;
                case GenerationEventKind.Settled:
                    Log.GenerationSettled(logger, table, e.Generation, e.Count, e.Elapsed);
                    runtime.Telemetry.RecordPurged(table, e.Count);
                    break;
                case GenerationEventKind.StillSettling when e.Elapsed > options.DeduplicationWindow:
                    Log.GenerationSettleSlow(logger, table, e.Generation, e.Elapsed);
                    break;
                case GenerationEventKind.TruncateBusy:
                    Log.GenerationTruncateBusy(logger, table);
                    break;
            }
        }, cancellationToken).ConfigureAwait(false);
        if (truncated < 0)
        {
            Log.PurgeSkipped(logger, table);
            return 0;
        }

        return truncated;
    }

    /// <summary>One pass: deletes every expired record of the inbox and of the other targets, batch by batch. Returns how many it deleted.</summary>
    internal async Task<long> PurgeAsync(CancellationToken cancellationToken)
    {
        var scope = scopes.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            var db = scope.ServiceProvider.GetRequiredService<TDbContext>();
            var dialect = InboxDialects.For(db);
            var options = runtime.Options;
            var now = runtime.Time.GetUtcNow();
            var cutoff = now - options.DeduplicationWindow;
            long total = 0;
            int deleted;
            if (dialect is PostgreSqlGenerationsDialect generations)
            {
                total = await RetireGenerationsAsync(db, generations, cancellationToken).ConfigureAwait(false);
                deleted = 0;
            }
            else
            {
                do
                {
                    deleted = await dialect.PurgeAsync(db, cutoff, options.PurgeBatchSize, cancellationToken).ConfigureAwait(false);
                    if (deleted < 0)
                    {
                        Log.PurgeSkipped(logger, dialect.TableName);
                        break;
                    }

                    total += deleted;
                    runtime.Telemetry.RecordPurged(dialect.TableName, deleted);
                }
                while (deleted == options.PurgeBatchSize);

                if (total > 0)
                {
                    Log.Purged(logger, dialect.TableName, total, cutoff);
                }
            }

            var oldest = await dialect.GetOldestAsync(db, cancellationToken).ConfigureAwait(false);
            runtime.Telemetry.RecordOldestAge(dialect.TableName, oldest is { } value ? now - value : null);
            foreach (var target in targets)
            {
                total += await PurgeTargetAsync(db, target, now, options.PurgeBatchSize, cancellationToken).ConfigureAwait(false);
            }

            return total;
        }
    }
}
