using Inbox.Processing.Units;
using Inbox.Telemetry;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Inbox.Processing;

/// <summary>What every unit of work of one inbox shares: its options, clock, telemetry, logger and store retry.</summary>
internal sealed class InboxRuntime<TDbContext>(
    IOptionsMonitor<InboxOptions> options,
    TimeProvider timeProvider,
    InboxTelemetry telemetry,
    ILogger<IInbox<TDbContext>> logger,
    UnitHooks<TDbContext> hooks)
    where TDbContext : DbContext
{
    /// <summary>The options name under which this DbContext's inbox is configured.</summary>
    public static readonly string OptionsName = typeof(TDbContext).FullName ?? typeof(TDbContext).Name;

    // The options and the retry built from them, as one immutable object read and replaced whole: units of work on many
    // threads read it while a reload replaces it.
    private BuiltRetry? _storeRetry;

    public InboxOptions Options => options.Get(OptionsName);

    public TimeProvider Time => timeProvider;

    public InboxTelemetry Telemetry => telemetry;

    public ILogger Logger => logger;

    /// <summary>Where a test kit acts in each unit of work (see <see cref="UnitHooks"/>).</summary>
    public UnitHooks Hooks => hooks;

    /// <summary>The unit of work in an explicit transaction (the default).</summary>
    public UnitStrategy<TDbContext> Transactional => field ??= new TransactionalUnit<TDbContext>(timeProvider, Hooks);

    /// <summary>The unit of work in one round trip (<see cref="InboxOptions.OneRoundTrip"/>).</summary>
    public UnitStrategy<TDbContext> OneRoundTrip => field ??= new OneRoundTripUnit<TDbContext>(timeProvider, Hooks, () => Options.OneRoundTripLookup);

    /// <summary>The store retry for the current options (built again only when the options are reloaded).</summary>
    public StoreRetry StoreRetryFor(InboxOptions current)
    {
        if (Volatile.Read(ref _storeRetry) is { } built && ReferenceEquals(built.Options, current))
        {
            return built.Retry;
        }

        var retry = new StoreRetry(current, timeProvider, telemetry, logger);
        Volatile.Write(ref _storeRetry, new BuiltRetry(current, retry));
        return retry;
    }

    /// <summary>
    /// Reports a late message that was new to the inbox (a late duplicate is just a duplicate): counts it and logs that
    /// it was processed, or rejected under <see cref="LateMessagePolicy.Reject"/>; returns the exception to throw then.
    /// </summary>
    public LateMessageException? ReportLate(string consumer, in InboxMessage message, DateTimeOffset now, InboxOptions current)
    {
        var sent = message.SentTime!.Value;
        var window = current.DeduplicationWindow;
        telemetry.RecordLate(consumer);
        if (current.LateMessagePolicy != LateMessagePolicy.Reject)
        {
            Log.LateMessageProcessed(logger, consumer, message.MessageId, sent, window);
            return null;
        }

        Log.LateMessageRejected(logger, consumer, message.MessageId, sent, window);
        return new LateMessageException(
            $"Message {message.MessageId} was sent at {sent:O}, {now - sent} ago, longer than the deduplication window " +
            $"({window}), and this consumer has no record of it; InboxOptions.LateMessagePolicy is Reject. Lengthen " +
            "InboxOptions.DeduplicationWindow or use LateMessagePolicy.ProcessAndWarn.");
    }

    /// <summary>Counts and logs a conflict; returns the exception to throw under <see cref="ConflictPolicy.Reject"/>.</summary>
    public InboxConflictException? ReportConflict(string consumer, string messageId, InboxOptions current)
    {
        telemetry.RecordOutcome(consumer, InboxOutcome.Conflict);
        Log.Conflict(logger, consumer, messageId);
        return current.ConflictPolicy == ConflictPolicy.Reject
            ? new InboxConflictException(
                $"Message {messageId} was already processed by {consumer} with other content (its fingerprint differs): the ID " +
                "was reused for another message. It was not processed; give the new message an ID of its own and send it again, " +
                "or set InboxOptions.ConflictPolicy to Skip to skip such messages.")
            : null;
    }

    private sealed record BuiltRetry(InboxOptions Options, StoreRetry Retry);
}
