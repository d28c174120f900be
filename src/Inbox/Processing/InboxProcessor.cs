using System.Diagnostics;
using Inbox.Model;
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
    // Changes that Npgsql's EF Core provider sends in one batch, with room to spare (its batches hold up to 1,000 commands).
    private const int OneBatch = 500;

    public Task<InboxOutcome> ProcessAsync(string consumer, string messageId, Func<TDbContext, CancellationToken, Task> handler, CancellationToken cancellationToken = default)
        => ProcessAsync(consumer, new InboxMessage(messageId), handler, cancellationToken);

    public async Task<InboxOutcome> ProcessAsync(string consumer, InboxMessage message, Func<TDbContext, CancellationToken, Task> handler, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handler);
        var options = runtime.Options;
        InboxInput.Validate(consumer, options.MaxIdLength, nameof(consumer));
        InboxInput.Validate(message.MessageId, options.MaxIdLength, "messageId");
        var dialect = InboxDialects.For(db);
        var now = runtime.Time.GetUtcNow();
        var late = InboxRuntime<TDbContext>.IsLate(message, now, options);

        using var activity = InboxTelemetry.ActivitySource.StartActivity("inbox process", ActivityKind.Internal);
        activity?.SetTag(InboxTelemetryTags.Consumer, consumer).SetTag(InboxTelemetryTags.MessageId, message.MessageId);

        var rejectLate = late && options.LateMessagePolicy == LateMessagePolicy.Reject;
        var result = await RunUnitAsync(dialect, consumer, message, handler, rejectLate, options, cancellationToken).ConfigureAwait(false);

        // Lateness is reported only for a message the inbox did not know: a late duplicate is just a duplicate.
        if (late && result is UnitOutcome.Processed or UnitOutcome.RejectedLate && runtime.ReportLate(consumer, message, now, options) is { } rejected)
        {
            activity?.SetTag(InboxTelemetryTags.Outcome, "RejectedLate");
            throw rejected;
        }

        var outcome = (InboxOutcome)result;
        activity?.SetTag(InboxTelemetryTags.Outcome, outcome.ToString());
        if (outcome == InboxOutcome.Conflict)
        {
            if (runtime.ReportConflict(consumer, message.MessageId, options) is { } conflict)
            {
                throw conflict;
            }
        }
        else
        {
            Record(consumer, message.MessageId, outcome);
        }

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
        var options = runtime.Options;
        InboxInput.Validate(consumer, options.MaxIdLength, nameof(consumer));
        var dialect = InboxDialects.For(db);

        using var activity = InboxTelemetry.ActivitySource.StartActivity("inbox process_batch", ActivityKind.Internal);
        activity?.SetTag(InboxTelemetryTags.Consumer, consumer).SetTag(InboxTelemetryTags.BatchCount, messages.Count);

        var now = runtime.Time.GetUtcNow();
        var batch = InboxBatch<TMessage>.Plan(consumer, messages, describe, options, now);
        if (batch.Candidates.Count > 0)
        {
            await RunBatchAsync(dialect, batch, handler, options, cancellationToken).ConfigureAwait(false);
        }

        // Late and conflicting messages are reported once, after the outcome is known, and become errors when rejected.
        foreach (var index in batch.Candidates)
        {
            var description = batch.Descriptions[index];
            if (batch.IsLate(index) && batch.Outcome(index) is UnitOutcome.Processed or UnitOutcome.RejectedLate && batch.Error(index) is null &&
                runtime.ReportLate(consumer, description, now, options) is { } rejected)
            {
                batch.SetError(index, rejected);
            }
            else if (batch.Outcome(index) == UnitOutcome.Conflict && batch.Error(index) is null &&
                runtime.ReportConflict(consumer, description.MessageId, options) is { } conflict)
            {
                batch.SetError(index, conflict);
            }
        }

        foreach (var copy in batch.ConflictingCopies().ToList())
        {
            if (runtime.ReportConflict(consumer, batch.Descriptions[copy].MessageId, options) is { } conflict)
            {
                batch.SetError(copy, conflict);
            }
        }

        var result = batch.Complete();
        foreach (var item in result.Items)
        {
            if (item.Error is null && item.Outcome != InboxOutcome.Conflict)
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
        InboxOptions options,
        CancellationToken cancellationToken)
    {
        try
        {
            await runtime.StoreRetryFor(options).ExecuteAsync(
                batch.Consumer,
                static (s, ct) => s.Self.RunBatchInStrategyAsync(s.Dialect, s.Batch, s.Handler, ct),
                (Self: this, Dialect: dialect, Batch: batch, Handler: handler),
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (batch.HandlerStarted && !cancellationToken.IsCancellationRequested &&
            InboxFailures.Classify(exception) != InboxFailureKind.Store)
        {
            // The handler or its SaveChanges failed for the batch as a whole: find the culprit by running each new
            // message in a unit of its own. The others commit; the culprit's exception is its result. A store failure
            // never gets here: the store retry holds the whole batch instead, so an outage costs no more tries.
            var fresh = batch.NewMessages();
            Log.BatchFallback(runtime.Logger, batch.Consumer, fresh.Count, exception);
            foreach (var index in fresh)
            {
                var message = batch.Messages[index];
                try
                {
                    var outcome = await RunUnitAsync(
                        dialect, batch.Consumer, batch.Descriptions[index], (context, ct) => handler(context, [message], ct), rejectLate: false, options, cancellationToken).ConfigureAwait(false);
                    batch.SetOutcome(index, outcome);
                }
                catch (Exception itemError) when (!cancellationToken.IsCancellationRequested && InboxFailures.Classify(itemError) != InboxFailureKind.Store)
                {
                    Log.BatchItemFailed(runtime.Logger, batch.Consumer, batch.Descriptions[index].MessageId, itemError);
                    batch.SetError(index, itemError);
                }
            }
        }
    }

    private Task<bool> RunBatchInStrategyAsync<TMessage>(
        InboxDialect dialect,
        InboxBatch<TMessage> batch,
        Func<TDbContext, IReadOnlyList<TMessage>, CancellationToken, Task> handler,
        CancellationToken cancellationToken)
        => db.Database.CreateExecutionStrategy().ExecuteAsync(
            (Self: this, Dialect: dialect, Batch: batch, Handler: handler),
            static (_, s, ct) => s.Self.RunBatchOnceAsync(s.Dialect, s.Batch, s.Handler, ct),
            verifySucceeded: null,
            cancellationToken);

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
                var insertable = batch.SortedInsertable();
                var inserted = insertable.Length == 0
                    ? []
                    : await dialect.InsertManyAsync(db, batch.Consumer, insertable, runtime.Time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
                var known = batch.MarkInserted(inserted);

                // Late messages the policy rejects are not recorded: they are looked up instead, so that a late
                // duplicate is still a duplicate and only a late message the inbox does not know is rejected.
                known.AddRange(batch.HeldBackIds());
                if (known.Count > 0 && (batch.HasFingerprints || batch.HasHeldBack))
                {
                    batch.MarkKnown(await dialect.GetFingerprintsAsync(db, batch.Consumer, known, cancellationToken).ConfigureAwait(false));
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

    private Task<UnitOutcome> RunUnitAsync(
        InboxDialect dialect,
        string consumer,
        InboxMessage message,
        Func<TDbContext, CancellationToken, Task> handler,
        bool rejectLate,
        InboxOptions options,
        CancellationToken cancellationToken)
        => runtime.StoreRetryFor(options).ExecuteAsync(
            consumer,
            static (s, ct) => s.Self.RunUnitInStrategyAsync(s.Dialect, s.Consumer, s.Message, s.Handler, s.RejectLate, ct),
            (Self: this, Dialect: dialect, Consumer: consumer, Message: message, Handler: handler, RejectLate: rejectLate),
            cancellationToken);

    private Task<UnitOutcome> RunUnitInStrategyAsync(
        InboxDialect dialect,
        string consumer,
        InboxMessage message,
        Func<TDbContext, CancellationToken, Task> handler,
        bool rejectLate,
        CancellationToken cancellationToken)
        => db.Database.CreateExecutionStrategy().ExecuteAsync(
            (Self: this, Dialect: dialect, Consumer: consumer, Message: message, Handler: handler, RejectLate: rejectLate),
            static (_, s, ct) => s.Self.RunUnitOnceAsync(s.Dialect, s.Consumer, s.Message, s.Handler, s.RejectLate, ct),
            verifySucceeded: null,
            cancellationToken);

    private async Task<UnitOutcome> RunUnitOnceAsync(
        InboxDialect dialect,
        string consumer,
        InboxMessage message,
        Func<TDbContext, CancellationToken, Task> handler,
        bool rejectLate,
        CancellationToken cancellationToken)
    {
        if (runtime.Options.OneRoundTrip && dialect is PostgreSqlDialect && !message.Unrecorded && !message.NeedsTransaction)
        {
            return await RunOneRoundTripAsync(dialect, consumer, message, handler, rejectLate, cancellationToken).ConfigureAwait(false);
        }

        var transaction = await BeginAsync(dialect, cancellationToken).ConfigureAwait(false);
        await using (transaction.ConfigureAwait(false))
        {
            try
            {
                // An unrecorded message is the caller's to deduplicate and to prove, inside the handler's transaction.
                var now = runtime.Time.GetUtcNow();
                if (!message.Unrecorded && !await dialect.TryInsertAsync(db, consumer, message.MessageId, now, message.Fingerprint, cancellationToken).ConfigureAwait(false))
                {
                    // Only a message with a fingerprint can conflict, so only then is the record looked up.
                    var outcome = message.Fingerprint is null
                        ? UnitOutcome.Duplicate
                        : await KnownAsync(dialect, consumer, message, cancellationToken).ConfigureAwait(false) ?? UnitOutcome.Duplicate;

                    await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
                    return outcome;
                }

                // Insert first, then judge lateness: a late message the inbox knows is a duplicate, not a rejection.
                if (rejectLate)
                {
                    await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
                    return UnitOutcome.RejectedLate;
                }

                await handler(db, cancellationToken).ConfigureAwait(false);
                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return UnitOutcome.Processed;
            }
            catch
            {
                // A failed attempt's tracked entities must not leak into the next attempt or the next message.
                db.ChangeTracker.Clear();
                throw;
            }
        }
    }

    /// <summary>
    /// <see cref="InboxOptions.OneRoundTrip"/>: look the ID up (as <see cref="InboxOptions.OneRoundTripLookup"/> says); if
    /// it is not known, run the handler and save its writes with the inbox record as one batch without an explicit
    /// transaction, which PostgreSQL runs as one implicit transaction. A delivery of the ID that committed first makes the
    /// batch fail on the record's primary key: nothing of it stays, and the failure's lookup finds the winner.
    /// </summary>
    private async Task<UnitOutcome> RunOneRoundTripAsync(
        InboxDialect dialect,
        string consumer,
        InboxMessage message,
        Func<TDbContext, CancellationToken, Task> handler,
        bool rejectLate,
        CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();

        // A late message is always looked up: a late duplicate is a duplicate, and only an unknown one is rejected.
        var lookFirst = rejectLate || runtime.Options.OneRoundTripLookup switch
        {
            InboxLookup.Always => true,
            InboxLookup.WhenRedelivered => message.Redelivered,
            _ => false,
        };

        // Opened here for the lookup and kept for the batch: the dialect's statements run on the context's connection.
        await db.Database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var automatic = db.Database.AutoTransactionBehavior;
        try
        {
            if (lookFirst && await KnownAsync(dialect, consumer, message, cancellationToken).ConfigureAwait(false) is { } known)
            {
                return known;
            }

            if (rejectLate)
            {
                return UnitOutcome.RejectedLate;
            }

            await handler(db, cancellationToken).ConfigureAwait(false);
            db.Add(new InboxRecord { Consumer = consumer, MessageId = message.MessageId, ProcessedAt = runtime.Time.GetUtcNow(), Fingerprint = message.Fingerprint });

            // One batch is one implicit transaction, which PostgreSQL rolls back whole when a statement fails. Only inserts
            // go that way: an update or delete that matches no row is no error to the server, so the batch would commit
            // and EF Core would throw afterwards. Those, and more changes than fit one batch, get an explicit transaction.
            var pending = 0;
            var onlyInserts = true;
            foreach (var entry in db.ChangeTracker.Entries())
            {
                if (entry.State is EntityState.Added or EntityState.Modified or EntityState.Deleted)
                {
                    pending++;
                    onlyInserts &= entry.State == EntityState.Added;
                }
            }

            db.Database.AutoTransactionBehavior = onlyInserts && pending <= OneBatch ? AutoTransactionBehavior.Never : AutoTransactionBehavior.WhenNeeded;
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            return UnitOutcome.Processed;
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested && InboxFailures.Classify(exception) != InboxFailureKind.Store)
        {
            // Nothing of the unit stayed. If the record is there now, the message was a duplicate: one that was not
            // looked up first, or a concurrent delivery that committed first. Whatever its handler threw against the
            // state the first delivery left (its own unique key, a rule it checks), it is a Duplicate, not a failure.
            // Otherwise the failure is the handler's own. A store failure goes to the store retry as it is.
            db.ChangeTracker.Clear();
            if (await KnownAsync(dialect, consumer, message, cancellationToken).ConfigureAwait(false) is { } winner)
            {
                return winner;
            }

            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(exception);
            throw;
        }
        catch
        {
            db.ChangeTracker.Clear();
            throw;
        }
        finally
        {
            db.Database.AutoTransactionBehavior = automatic;
            await db.Database.CloseConnectionAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Duplicate or Conflict when the ID is recorded already; null when it is new.</summary>
    private async Task<UnitOutcome?> KnownAsync(InboxDialect dialect, string consumer, InboxMessage message, CancellationToken cancellationToken)
    {
        var stored = await dialect.GetFingerprintsAsync(db, consumer, [message.MessageId], cancellationToken).ConfigureAwait(false);
        if (!stored.TryGetValue(message.MessageId, out var fingerprint))
        {
            return null;
        }

        return message.Fingerprint is { } mine && InboxFingerprint.Differs(fingerprint, mine) ? UnitOutcome.Conflict : UnitOutcome.Duplicate;
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
    }
}
