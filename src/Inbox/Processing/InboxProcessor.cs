using System.Diagnostics;
using Inbox.Processing.Units;
using Inbox.Storage;
using Inbox.Telemetry;
using Microsoft.EntityFrameworkCore;

namespace Inbox.Processing;

/// <summary>
/// The inbox's front: checks the input, traces the call, hands the unit of work to <see cref="UnitRunner{TDbContext}"/>
/// and turns what it found into the outcome, reporting late and conflicting messages once, after the outcome is known.
/// </summary>
internal sealed class InboxProcessor<TDbContext>(TDbContext db, InboxRuntime<TDbContext> runtime) : IInbox<TDbContext>
    where TDbContext : DbContext
{
    private readonly UnitRunner<TDbContext> _runner = new(db, runtime);

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
        var late = message.IsLate(now, options.DeduplicationWindow);

        using var activity = InboxTelemetry.ActivitySource.StartActivity("inbox process", ActivityKind.Internal);
        activity?.SetTag(InboxTelemetryTags.Consumer, consumer).SetTag(InboxTelemetryTags.MessageId, message.MessageId);

        var unit = new InboxUnit<TDbContext>(dialect, consumer, message, handler, RejectLate: late && options.LateMessagePolicy == LateMessagePolicy.Reject);
        var result = await _runner.RunAsync(unit, options, cancellationToken).ConfigureAwait(false);

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
            await _runner.RunBatchAsync(dialect, batch, handler, options, cancellationToken).ConfigureAwait(false);
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

    private void Record(string consumer, string messageId, InboxOutcome outcome)
    {
        runtime.Telemetry.RecordOutcome(consumer, outcome);
        if (outcome == InboxOutcome.Duplicate)
        {
            Log.Duplicate(runtime.Logger, consumer, messageId);
        }
    }
}
