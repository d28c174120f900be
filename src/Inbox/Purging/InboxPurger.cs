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

    /// <summary>One pass: deletes every expired record of the inbox and of the other targets, batch by batch. Returns how many it deleted.</summary>
    internal async Task<long> PurgeAsync(CancellationToken cancellationToken)
    {
        var scope = scopes.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            var db = scope.ServiceProvider.GetRequiredService<TDbContext>();
            var dialect = InboxDialects.For(db);
            var now = runtime.Time.GetUtcNow();
            var pass = new PurgePass(now, runtime.Time, runtime.Options, runtime.Telemetry, logger);
            var total = await dialect.Retention.RetireAsync(db, pass, cancellationToken).ConfigureAwait(false);

            var oldest = await dialect.GetOldestAsync(db, cancellationToken).ConfigureAwait(false);
            runtime.Telemetry.RecordOldestAge(dialect.TableName, oldest is { } value ? now - value : null);
            foreach (var target in targets)
            {
                var cutoff = target.Cutoff(now);
                total += await PurgeLoop.RunAsync(
                    target.TableName(db), cutoff, limit => target.PurgeAsync(db, cutoff, limit, cancellationToken), pass).ConfigureAwait(false);
            }

            return total;
        }
    }
}
