using System.Diagnostics;
using Inbox.Storage;
using Inbox.Telemetry;
using Microsoft.EntityFrameworkCore;

namespace Inbox.Processing;

/// <summary>
/// The unit of work. Order matters and is fixed here:
/// execution strategy (a transient fault re-runs everything below on a clean change tracker)
///   → begin transaction → insert the inbox row (the primary key is the lock) → handler → SaveChanges → commit,
/// and only after the commit does the caller (the adapter) acknowledge the message.
/// </summary>
internal sealed class InboxProcessor<TDbContext>(TDbContext db, InboxRuntime<TDbContext> runtime) : IInbox<TDbContext>
    where TDbContext : DbContext
{
    public Task<InboxOutcome> ProcessAsync(string consumer, string messageId, Func<TDbContext, CancellationToken, Task> handler, CancellationToken cancellationToken = default)
        => ProcessAsync(consumer, new InboxMessage(messageId), handler, cancellationToken);

    public async Task<InboxOutcome> ProcessAsync(string consumer, InboxMessage message, Func<TDbContext, CancellationToken, Task> handler, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handler);
        var options = runtime.Options;
        InboxInput.Validate(consumer, options.MaxIdLength, nameof(consumer));
        InboxInput.Validate(message.MessageId, options.MaxIdLength, "messageId");
        var dialect = InboxDialects.For(db);
        runtime.CheckLate(consumer, message, runtime.Time.GetUtcNow(), options);

        using var activity = InboxTelemetry.ActivitySource.StartActivity("inbox process", ActivityKind.Internal);
        activity?.SetTag(InboxTelemetryTags.Consumer, consumer).SetTag(InboxTelemetryTags.MessageId, message.MessageId);

        var outcome = await RunUnitAsync(dialect, consumer, message, handler, cancellationToken).ConfigureAwait(false);
        activity?.SetTag(InboxTelemetryTags.Outcome, outcome.ToString());
        Record(consumer, message.MessageId, outcome);
        return outcome;
    }

    public async Task<InboxBatchResult> ProcessBatchAsync<TMessage>(
        string consumer,
        IReadOnlyList<TMessage> messages,
        Func<TMessage, InboxMessage> describe,
        Func<TDbContext, IReadOnlyList<TMessage>, CancellationToken, Task> handler,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        ArgumentNullException.ThrowIfNull(describe);
        ArgumentNullException.ThrowIfNull(handler);
        InboxInput.Validate(consumer, runtime.Options.MaxIdLength, nameof(consumer));
        var dialect = InboxDialects.For(db);

        using var activity = InboxTelemetry.ActivitySource.StartActivity("inbox process_batch", ActivityKind.Internal);
        activity?.SetTag(InboxTelemetryTags.Consumer, consumer).SetTag(InboxTelemetryTags.BatchCount, messages.Count);

        var batch = InboxBatch<TMessage>.Plan(consumer, messages, describe, runtime);
        if (batch.Candidates.Count > 0)
        {
            await RunBatchAsync(dialect, batch, handler, cancellationToken).ConfigureAwait(false);
        }

        var result = batch.Complete();
        foreach (var item in result.Items)
        {
            if (item.Error is null)
            {
                Record(consumer, item.MessageId!, item.Outcome);
            }
        }

        return result;
    }

    private async Task RunBatchAsync<TMessage>(
        InboxDialect dialect,
        InboxBatch<TMessage> batch,
        Func<TDbContext, IReadOnlyList<TMessage>, CancellationToken, Task> handler,
        CancellationToken cancellationToken)
    {
        var strategy = db.Database.CreateExecutionStrategy();
        try
        {
            await strategy.ExecuteAsync(
                (Self: this, Dialect: dialect, Batch: batch, Handler: handler),
                static (_, s, ct) => s.Self.RunBatchOnceAsync(s.Dialect, s.Batch, s.Handler, ct),
                verifySucceeded: null,
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (batch.HandlerStarted && !cancellationToken.IsCancellationRequested)
        {
            // The handler or its SaveChanges failed for the batch as a whole: find the culprit by running each new
            // message in a unit of its own. The others commit; the culprit's exception is its result.
            var fresh = batch.NewMessages();
            Log.BatchFallback(runtime.Logger, batch.Consumer, fresh.Count, exception);
            foreach (var index in fresh)
            {
                var message = batch.Messages[index];
                try
                {
                    var outcome = await RunUnitAsync(
                        dialect, batch.Consumer, batch.Descriptions[index], (context, ct) => handler(context, [message], ct), cancellationToken).ConfigureAwait(false);
                    batch.SetOutcome(index, outcome);
                }
                catch (Exception itemError) when (!cancellationToken.IsCancellationRequested)
                {
                    Log.BatchItemFailed(runtime.Logger, batch.Consumer, batch.Descriptions[index].MessageId, itemError);
                    batch.SetError(index, itemError);
                }
            }
        }
    }

    private async Task<bool> RunBatchOnceAsync<TMessage>(
        InboxDialect dialect,
        InboxBatch<TMessage> batch,
        Func<TDbContext, IReadOnlyList<TMessage>, CancellationToken, Task> handler,
        CancellationToken cancellationToken)
    {
        batch.Reset();
        var transaction = await BeginAsync(dialect, cancellationToken).ConfigureAwait(false);
        await using (transaction.ConfigureAwait(false))
        {
            try
            {
                var sorted = batch.SortedCandidates();
                var inserted = await dialect.InsertManyAsync(db, batch.Consumer, sorted, runtime.Time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
                var known = batch.MarkInserted(inserted);
                if (known.Count > 0 && batch.HasFingerprints)
                {
                    batch.MarkConflicts(await dialect.GetFingerprintsAsync(db, batch.Consumer, known, cancellationToken).ConfigureAwait(false));
                }

                var fresh = batch.NewMessageValues();
                if (fresh.Count == 0)
                {
                    await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
                    return true;
                }

                batch.HandlerStarted = true;
                await handler(db, fresh, cancellationToken).ConfigureAwait(false);
                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                batch.MarkNewProcessed();
                return true;
            }
            catch
            {
                db.ChangeTracker.Clear();
                throw;
            }
        }
    }

    private Task<InboxOutcome> RunUnitAsync(
        InboxDialect dialect,
        string consumer,
        InboxMessage message,
        Func<TDbContext, CancellationToken, Task> handler,
        CancellationToken cancellationToken)
    {
        var strategy = db.Database.CreateExecutionStrategy();
        return strategy.ExecuteAsync(
            (Self: this, Dialect: dialect, Consumer: consumer, Message: message, Handler: handler),
            static (_, s, ct) => s.Self.RunUnitOnceAsync(s.Dialect, s.Consumer, s.Message, s.Handler, ct),
            verifySucceeded: null,
            cancellationToken);
    }

    private async Task<InboxOutcome> RunUnitOnceAsync(
        InboxDialect dialect,
        string consumer,
        InboxMessage message,
        Func<TDbContext, CancellationToken, Task> handler,
        CancellationToken cancellationToken)
    {
        var transaction = await BeginAsync(dialect, cancellationToken).ConfigureAwait(false);
        await using (transaction.ConfigureAwait(false))
        {
            try
            {
                var now = runtime.Time.GetUtcNow();
                if (!await dialect.TryInsertAsync(db, consumer, message.MessageId, now, message.Fingerprint, cancellationToken).ConfigureAwait(false))
                {
                    var outcome = InboxOutcome.Duplicate;
                    if (message.Fingerprint is { } fingerprint)
                    {
                        var stored = await dialect.GetFingerprintsAsync(db, consumer, [message.MessageId], cancellationToken).ConfigureAwait(false);
                        outcome = InboxFingerprint.Differs(stored.GetValueOrDefault(message.MessageId), fingerprint) ? InboxOutcome.Conflict : outcome;
                    }

                    await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
                    return outcome;
                }

                await handler(db, cancellationToken).ConfigureAwait(false);
                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return InboxOutcome.Processed;
            }
            catch
            {
                // A failed attempt's tracked entities must not leak into the next attempt or the next message.
                db.ChangeTracker.Clear();
                throw;
            }
        }
    }

    private async Task<Microsoft.EntityFrameworkCore.Storage.IDbContextTransaction> BeginAsync(InboxDialect dialect, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        var transaction = await db.Database.BeginTransactionAsync(dialect.IsolationLevel, cancellationToken).ConfigureAwait(false);

        // SaveChanges inside our transaction would otherwise wrap itself in a savepoint: two more round trips per
        // message for nothing, since a failure rolls the whole unit back anyway. Restored when the unit ends.
        return new SavepointsOff(db, transaction);
    }

    private void Record(string consumer, string messageId, InboxOutcome outcome)
    {
        runtime.Telemetry.RecordOutcome(consumer, outcome);
        if (outcome == InboxOutcome.Duplicate)
        {
            Log.Duplicate(runtime.Logger, consumer, messageId);
        }
        else if (outcome == InboxOutcome.Conflict)
        {
            Log.Conflict(runtime.Logger, consumer, messageId);
        }
    }
}
