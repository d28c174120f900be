using Microsoft.Extensions.Logging;

namespace Inbox.RabbitMQ.Telemetry;

/// <summary>Every log message of the RabbitMQ adapter, source-generated.</summary>
internal static partial class Log
{
    [LoggerMessage(200, LogLevel.Information, "Inbox RabbitMQ consumer {Consumer}: consuming queue {Queue} (prefetch {Prefetch}, up to {Concurrency} at once, batches of up to {BatchSize}).")]
    public static partial void Consuming(ILogger logger, string consumer, string queue, int prefetch, int concurrency, int batchSize);

    [LoggerMessage(201, LogLevel.Warning, "Inbox RabbitMQ consumer {Consumer}: connecting to RabbitMQ failed (attempt {Attempt}); trying again in {Delay}.")]
    public static partial void ConnectFailed(ILogger logger, string consumer, int attempt, TimeSpan delay, Exception exception);

    [LoggerMessage(202, LogLevel.Warning, "Inbox RabbitMQ consumer {Consumer}: the handler failed for {MessageId} (attempt {Attempt} of {Attempts}).")]
    public static partial void HandlerFailed(ILogger logger, string consumer, string messageId, int attempt, int attempts, Exception exception);

    [LoggerMessage(203, LogLevel.Error, "Inbox RabbitMQ consumer {Consumer}: message {MessageId} from {Queue} goes to the dead-letter queue {DeadLetterQueue}: {Reason}.")]
    public static partial void DeadLettering(ILogger logger, string consumer, string? messageId, string queue, string deadLetterQueue, string reason, Exception? exception);

    [LoggerMessage(204, LogLevel.Warning, "Inbox RabbitMQ consumer {Consumer}: publishing to the dead-letter queue {DeadLetterQueue} failed (attempt {Attempt}); trying again in {Delay}. The message stays unacknowledged meanwhile.")]
    public static partial void DeadLetterFailed(ILogger logger, string consumer, string deadLetterQueue, int attempt, TimeSpan delay, Exception exception);

    [LoggerMessage(205, LogLevel.Critical, "Inbox RabbitMQ consumer {Consumer}: the database stayed down longer than InboxOptions.StoreOutageLimit while processing {MessageId}; stopping the host. The message is not acknowledged: the broker delivers it again.")]
    public static partial void StoppingForStoreOutage(ILogger logger, string consumer, string messageId, Exception exception);

    [LoggerMessage(206, LogLevel.Debug, "Inbox RabbitMQ consumer {Consumer}: acknowledging {MessageId} failed ({Reason}); the broker delivers it again and the inbox recognises it.")]
    public static partial void AckFailed(ILogger logger, string consumer, string? messageId, string reason);

    [LoggerMessage(207, LogLevel.Warning, "Inbox RabbitMQ consumer {Consumer}: {Count} deliveries still in flight after the shutdown timeout {Timeout}; cancelled and left unacknowledged.")]
    public static partial void ShutdownTimedOut(ILogger logger, string consumer, int count, TimeSpan timeout);

    [LoggerMessage(208, LogLevel.Information, "Inbox RabbitMQ consumer {Consumer}: stopped.")]
    public static partial void Stopped(ILogger logger, string consumer);

    [LoggerMessage(209, LogLevel.Critical, "Inbox RabbitMQ consumer {Consumer}: processing batches failed; stopping the host. The deliveries not acknowledged come back.")]
    public static partial void BatchesFailed(ILogger logger, string consumer, Exception exception);
}
