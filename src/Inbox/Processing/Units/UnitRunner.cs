using Inbox.Storage;
using Inbox.Telemetry;
using Microsoft.EntityFrameworkCore;

namespace Inbox.Processing.Units;

/// <summary>
/// Runs units of work on one DbContext: the store retry (an outage holds the unit and tries again with back-off) around
/// the DbContext's execution strategy (a transient fault re-runs everything on a clean change tracker) around one run of
/// the unit's strategy, transactional or <see cref="InboxOptions.OneRoundTrip"/>. Only after the commit does the caller
/// (the adapter) acknowledge the message.
/// </summary>
internal sealed class UnitRunner<TDbContext>(TDbContext db, InboxRuntime<TDbContext> runtime)
    where TDbContext : DbContext
{
    /// <summary>Runs one message's unit.</summary>
    public Task<UnitOutcome> RunAsync(InboxUnit<TDbContext> unit, InboxOptions options, CancellationToken cancellationToken)
    {
        var message = unit.Message;
        var strategy = options.OneRoundTrip && unit.Dialect.SupportsOneRoundTrip && !message.Unrecorded && !message.NeedsTransaction
            ? runtime.OneRoundTrip
            : runtime.Transactional;
        return runtime.StoreRetryFor(options).ExecuteAsync(
            unit.Consumer,
            static (s, ct) => s.Db.Database.CreateExecutionStrategy().ExecuteAsync(
                s,
                static (_, s, ct) => s.Strategy.RunOnceAsync(s.Db, s.Unit, ct),
                verifySucceeded: null,
                ct),
            (Db: db, Strategy: strategy, Unit: unit),
            cancellationToken);
    }

    /// <summary>
    /// Runs a batch's unit. When the handler or its SaveChanges fails for the batch as a whole, finds the culprit by
    /// running each new message in a unit of its own: the others commit, the culprit's exception is its result.
    /// </summary>
    public async Task RunBatchAsync<TMessage>(
        InboxDialect dialect,
        InboxBatch<TMessage> batch,
        Func<TDbContext, IReadOnlyList<TMessage>, CancellationToken, Task> handler,
        InboxOptions options,
        CancellationToken cancellationToken)
    {
        try
        {
            await runtime.StoreRetryFor(options).ExecuteAsync(
                batch.Consumer,
                static (s, ct) => s.Db.Database.CreateExecutionStrategy().ExecuteAsync(
                    s,
                    static (_, s, ct) => BatchTransaction.RunOnceAsync(s.Db, s.Dialect, s.Batch, s.Handler, s.Time, ct),
                    verifySucceeded: null,
                    ct),
                (Db: db, Dialect: dialect, Batch: batch, Handler: handler, Time: runtime.Time),
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (batch.HandlerStarted && !cancellationToken.IsCancellationRequested &&
            InboxFailures.Classify(exception) != InboxFailureKind.Store)
        {
            // A store failure never gets here: the store retry holds the whole batch instead, so an outage costs no more tries.
            var fresh = batch.NewMessages();
            Log.BatchFallback(runtime.Logger, batch.Consumer, fresh.Count, exception);
            foreach (var index in fresh)
            {
                var message = batch.Messages[index];
                var unit = new InboxUnit<TDbContext>(dialect, batch.Consumer, batch.Descriptions[index], (context, ct) => handler(context, [message], ct), RejectLate: false);
                try
                {
                    batch.SetOutcome(index, await RunAsync(unit, options, cancellationToken).ConfigureAwait(false));
                }
                catch (Exception itemError) when (!cancellationToken.IsCancellationRequested && InboxFailures.Classify(itemError) != InboxFailureKind.Store)
                {
                    Log.BatchItemFailed(runtime.Logger, batch.Consumer, batch.Descriptions[index].MessageId, itemError);
                    batch.SetError(index, itemError);
                }
            }
        }
    }
}
