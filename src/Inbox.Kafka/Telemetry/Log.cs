using Microsoft.Extensions.Logging;

namespace Inbox.Kafka.Telemetry;

/// <summary>Every log message of the Kafka adapter, source-generated.</summary>
internal static partial class Log
{
    [LoggerMessage(100, LogLevel.Information, "Inbox Kafka consumer {Consumer}: subscribed to {Topics}.")]
    public static partial void Subscribed(ILogger logger, string consumer, string topics);

    [LoggerMessage(101, LogLevel.Information, "Inbox Kafka consumer {Consumer}: assigned {Partitions}.")]
    public static partial void Assigned(ILogger logger, string consumer, string partitions);

    [LoggerMessage(102, LogLevel.Information, "Inbox Kafka consumer {Consumer}: revoked {Partitions}; in-flight batches finished and offsets committed.")]
    public static partial void Revoked(ILogger logger, string consumer, string partitions);

    [LoggerMessage(103, LogLevel.Warning, "Inbox Kafka consumer {Consumer}: lost {Partitions}; in-flight work dropped, nothing committed. Their messages will be redelivered and deduplicated.")]
    public static partial void Lost(ILogger logger, string consumer, string partitions);

    [LoggerMessage(104, LogLevel.Warning, "Inbox Kafka consumer {Consumer}: max.poll.interval.ms exceeded; in-flight work dropped, nothing committed. Rejoining the group.")]
    public static partial void MaxPollExceeded(ILogger logger, string consumer);

    [LoggerMessage(105, LogLevel.Information, "Inbox Kafka consumer {Consumer}: seeking {Partition} to offset {Offset} stored in the database.")]
    public static partial void SeekingToDatabaseOffset(ILogger logger, string consumer, string partition, long offset);

    [LoggerMessage(125, LogLevel.Debug, "Inbox Kafka consumer {Consumer}: pausing {Partitions} failed ({Reason}); not fatal, its worker's queue grows until the next try.")]
    public static partial void PauseFailed(ILogger logger, string consumer, string partitions, string reason);

    [LoggerMessage(126, LogLevel.Debug, "Inbox Kafka consumer {Consumer}: resuming {Partitions} failed ({Reason}); not fatal, a partition revoked meanwhile is resumed by its next assignment.")]
    public static partial void ResumeFailed(ILogger logger, string consumer, string partitions, string reason);

    [LoggerMessage(127, LogLevel.Information, "Inbox Kafka consumer {Consumer}: closing the consumer failed ({Reason}); the group reassigns its partitions after the session timeout instead of at once.")]
    public static partial void CloseFailed(ILogger logger, string consumer, string reason);

    [LoggerMessage(106, LogLevel.Debug, "Inbox Kafka consumer {Consumer}: committing offsets failed ({Reason}); not fatal, the inbox makes a redelivery harmless.")]
    public static partial void CommitFailed(ILogger logger, string consumer, string reason);

    [LoggerMessage(107, LogLevel.Debug, "Inbox Kafka consumer {Consumer}: storing offset {Offset} of {Partition} failed ({Reason}); the partition is no longer ours.")]
    public static partial void StoreFailed(ILogger logger, string consumer, string partition, long offset, string reason);

    [LoggerMessage(108, LogLevel.Warning, "Inbox Kafka consumer {Consumer}: in-flight batches of {Partitions} did not finish within {Timeout}; abandoned uncommitted.")]
    public static partial void RevocationTimedOut(ILogger logger, string consumer, string partitions, TimeSpan timeout);

    [LoggerMessage(118, LogLevel.Warning, "Inbox Kafka consumer {Consumer}: reading the offsets of {Partitions} from the database failed (attempt {Attempt}); trying again in {Delay}.")]
    public static partial void DatabaseOffsetsReadFailed(ILogger logger, string consumer, string partitions, int attempt, TimeSpan delay, Exception exception);

    [LoggerMessage(119, LogLevel.Error, "Inbox Kafka consumer {Consumer}: the offsets of {Partitions} could not be read from the database; Kafka's committed offsets are used, which are never ahead of the database's (the records in between are redelivered and deduplicated).")]
    public static partial void DatabaseOffsetsUnread(ILogger logger, string consumer, string partitions, Exception exception);

    [LoggerMessage(120, LogLevel.Debug, "Inbox Kafka consumer {Consumer}: stopping while the offsets of {Partitions} were read from the database; the read is abandoned.")]
    public static partial void DatabaseOffsetsReadCancelled(ILogger logger, string consumer, string partitions);

    [LoggerMessage(110, LogLevel.Error, "Inbox Kafka consumer {Consumer}: a batch of {Partition} could not be processed (attempt {Attempt}); retrying in {Delay}. The partition does not advance meanwhile.")]
    public static partial void BatchFailed(ILogger logger, string consumer, string partition, int attempt, TimeSpan delay, Exception exception);

    [LoggerMessage(111, LogLevel.Warning, "Inbox Kafka consumer {Consumer}: the handler failed for {MessageId} at {Position} (attempt {Attempt} of {Attempts}).")]
    public static partial void HandlerFailed(ILogger logger, string consumer, string messageId, string position, int attempt, int attempts, Exception exception);

    [LoggerMessage(112, LogLevel.Error, "Inbox Kafka consumer {Consumer}: the message at {Position} goes to the dead-letter topic {DeadLetterTopic}: {Reason}.")]
    public static partial void DeadLettering(ILogger logger, string consumer, string position, string deadLetterTopic, string reason, Exception? exception);

    [LoggerMessage(113, LogLevel.Error, "Inbox Kafka consumer {Consumer}: producing the message at {Position} to the dead-letter topic failed (attempt {Attempt}); retrying in {Delay}. The partition does not advance meanwhile.")]
    public static partial void DeadLetterFailed(ILogger logger, string consumer, string position, int attempt, TimeSpan delay, Exception exception);

    [LoggerMessage(124, LogLevel.Critical, "Inbox Kafka consumer {Consumer}: stopped by itself: {Reason}. Its partitions go to other members of the group; the host stops unless HostOptions.BackgroundServiceExceptionBehavior is Ignore.")]
    public static partial void ConsumerFailed(ILogger logger, string consumer, string reason, Exception exception);

    [LoggerMessage(115, LogLevel.Critical, "Inbox Kafka consumer {Consumer}: the worker of {Partition} failed unexpectedly; stopping this consumer so that its partitions go to other members.")]
    public static partial void WorkerFailed(ILogger logger, string consumer, string partition, Exception exception);

    [LoggerMessage(116, LogLevel.Debug, "Inbox Kafka consumer {Consumer}: paused {Partition} with {Queued} records waiting for its worker.")]
    public static partial void Paused(ILogger logger, string consumer, string partition, int queued);

    [LoggerMessage(117, LogLevel.Debug, "Inbox Kafka consumer {Consumer}: resumed {Partition} with {Queued} records waiting for its worker.")]
    public static partial void Resumed(ILogger logger, string consumer, string partition, int queued);

    [LoggerMessage(EventId = 120, Message = "Inbox Kafka consumer {Consumer}: librdkafka {Facility}: {Message}")]
    public static partial void Librdkafka(ILogger logger, LogLevel level, string consumer, string facility, string message);

    [LoggerMessage(EventId = 121, Message = "Inbox Kafka consumer {Consumer}: Kafka error {Code}: {Reason}")]
    public static partial void KafkaError(ILogger logger, LogLevel level, string consumer, string code, string reason);

    [LoggerMessage(122, LogLevel.Error, "Inbox Kafka consumer {Consumer}: consuming failed: {Reason}")]
    public static partial void ConsumeFailed(ILogger logger, string consumer, string reason, Exception exception);

    [LoggerMessage(123, LogLevel.Information, "Inbox Kafka consumer {Consumer}: stopped.")]
    public static partial void Stopped(ILogger logger, string consumer);
}
