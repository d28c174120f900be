using Inbox.Telemetry;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Inbox.Processing;

/// <summary>What every unit of work of one inbox shares: its options, clock, telemetry and logger.</summary>
internal sealed class InboxRuntime<TDbContext>(
    IOptionsMonitor<InboxOptions> options,
    TimeProvider timeProvider,
    InboxTelemetry telemetry,
    ILogger<IInbox<TDbContext>> logger)
    where TDbContext : DbContext
{
    /// <summary>The options name under which this DbContext's inbox is configured.</summary>
    public static readonly string OptionsName = typeof(TDbContext).FullName ?? typeof(TDbContext).Name;

    public InboxOptions Options => options.Get(OptionsName);

    public TimeProvider Time => timeProvider;

    public InboxTelemetry Telemetry => telemetry;

    public ILogger Logger => logger;

    /// <summary>
    /// Applies the late-arrival policy: returns normally to process, throws to reject. Takes the options the caller
    /// already read, so that a batch looks them up once, not once per message.
    /// </summary>
    public void CheckLate(string consumer, in InboxMessage message, DateTimeOffset now, InboxOptions current)
    {
        var window = current.DeduplicationWindow;
        if (message.SentTime is not { } sent || now - sent <= window)
        {
            return;
        }

        telemetry.RecordLate(consumer);
        if (current.LateMessagePolicy == LateMessagePolicy.Reject)
        {
            Log.LateMessageRejected(logger, consumer, message.MessageId, sent, window);
            throw new LateMessageException(
                $"Message {message.MessageId} was sent at {sent:O}, {now - sent} ago, longer than the deduplication window " +
                $"({window}); InboxOptions.LateMessagePolicy is Reject. Lengthen InboxOptions.DeduplicationWindow or use LateMessagePolicy.ProcessAndWarn.");
        }

        Log.LateMessageProcessed(logger, consumer, message.MessageId, sent, window);
    }
}
