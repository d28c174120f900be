using Microsoft.Extensions.Logging;

namespace Inbox.MassTransit.Telemetry;

/// <summary>Every log message of the MassTransit adapter, source-generated.</summary>
internal static partial class Log
{
    [LoggerMessage(200, LogLevel.Critical, "Inbox {Consumer}: the database has failed for longer than InboxOptions.StoreOutageLimit. Stopping the host: this consumer cannot go on, and an outage is no reason to move messages to the error queue. Message {MessageId} stays unacknowledged and goes back to the broker when the bus stops.")]
    public static partial void StoppingForStoreOutage(ILogger logger, string consumer, string messageId, Exception exception);

    [LoggerMessage(201, LogLevel.Debug, "Inbox outbox: sending message {MessageId} to {Destination} failed, the broker is unavailable; it stays in the outbox: {Reason}")]
    public static partial void OutboxSendFailed(ILogger logger, string messageId, string destination, string reason);
}
