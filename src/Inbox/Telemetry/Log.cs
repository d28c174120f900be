using Microsoft.Extensions.Logging;

namespace Inbox.Telemetry;

/// <summary>Every log message of the core, source-generated.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Debug, "Inbox {Consumer}: message {MessageId} is a duplicate; the handler was not run.")]
    public static partial void Duplicate(ILogger logger, string consumer, string messageId);

    [LoggerMessage(2, LogLevel.Warning, "Inbox {Consumer}: message {MessageId} was already processed with other content (fingerprint differs); the handler was not run.")]
    public static partial void Conflict(ILogger logger, string consumer, string messageId);

    [LoggerMessage(3, LogLevel.Warning, "Inbox {Consumer}: message {MessageId} was sent at {SentTime:O}, longer ago than the deduplication window ({Window}); an earlier copy may have been purged, so it cannot be recognised as a duplicate. Processing it.")]
    public static partial void LateMessageProcessed(ILogger logger, string consumer, string messageId, DateTimeOffset sentTime, TimeSpan window);

    [LoggerMessage(4, LogLevel.Warning, "Inbox {Consumer}: message {MessageId} was sent at {SentTime:O}, longer ago than the deduplication window ({Window}); rejected by LateMessagePolicy.Reject.")]
    public static partial void LateMessageRejected(ILogger logger, string consumer, string messageId, DateTimeOffset sentTime, TimeSpan window);

    [LoggerMessage(5, LogLevel.Warning, "Inbox {Consumer}: a batch of {Count} new messages failed; retrying them one by one.")]
    public static partial void BatchFallback(ILogger logger, string consumer, int count, Exception exception);

    [LoggerMessage(6, LogLevel.Warning, "Inbox {Consumer}: message {MessageId} failed on its own after its batch failed.")]
    public static partial void BatchItemFailed(ILogger logger, string consumer, string messageId, Exception exception);

    [LoggerMessage(7, LogLevel.Warning, "Inbox {Consumer}: the database failed; the message is held and its unit of work tried again in {Delay}. Not the message's fault: nothing is dead-lettered for this.")]
    public static partial void StoreFailed(ILogger logger, string consumer, TimeSpan delay, Exception exception);

    [LoggerMessage(8, LogLevel.Debug, "Inbox {Consumer}: the database still fails (attempt {Attempt}, held {Held}); trying again in {Delay}: {Reason}")]
    public static partial void StoreStillFailing(ILogger logger, string consumer, int attempt, TimeSpan held, TimeSpan delay, string reason);

    [LoggerMessage(9, LogLevel.Information, "Inbox {Consumer}: the database answers again; the held message went through after {Held}.")]
    public static partial void StoreRecovered(ILogger logger, string consumer, TimeSpan held);

    [LoggerMessage(10, LogLevel.Error, "Inbox {Consumer}: the database has failed for {Held}, longer than InboxOptions.StoreOutageLimit ({Limit}); giving up on this message.")]
    public static partial void StoreOutageLimitReached(ILogger logger, string consumer, TimeSpan held, TimeSpan limit, Exception exception);

    [LoggerMessage(20, LogLevel.Information, "Inbox purger for {Table}: deleted {Count} records older than {Cutoff:O}.")]
    public static partial void Purged(ILogger logger, string table, long count, DateTimeOffset cutoff);

    [LoggerMessage(21, LogLevel.Debug, "Inbox purger for {Table}: another instance is purging; skipping this pass.")]
    public static partial void PurgeSkipped(ILogger logger, string table);

    [LoggerMessage(22, LogLevel.Error, "Inbox purger for {Table}: the pass failed; trying again in {Interval}.")]
    public static partial void PurgeFailed(ILogger logger, string table, TimeSpan interval, Exception exception);

    [LoggerMessage(23, LogLevel.Information, "Inbox purger for {Context} is disabled by InboxOptions.PurgeEnabled.")]
    public static partial void PurgeDisabled(ILogger logger, string context);

    [LoggerMessage(24, LogLevel.Information, "Inbox generations for {Table}: generation {Generation} is current; the previous one is still checked.")]
    public static partial void GenerationRotated(ILogger logger, string table, long generation);

    [LoggerMessage(25, LogLevel.Information, "Inbox generations for {Table}: generation {Generation} settled; truncated the expired table (about {Count} records) in {Elapsed}.")]
    public static partial void GenerationSettled(ILogger logger, string table, long generation, long count, TimeSpan elapsed);

    [LoggerMessage(26, LogLevel.Warning, "Inbox generations for {Table}: generation {Generation} has waited {Waited} for transactions that began before it to end; expired records stay until they do. A long-open transaction on this PostgreSQL cluster holds it up.")]
    public static partial void GenerationSettleSlow(ILogger logger, string table, long generation, TimeSpan waited);

    [LoggerMessage(27, LogLevel.Debug, "Inbox generations for {Table}: the expired table is in use; truncating it again on the next pass.")]
    public static partial void GenerationTruncateBusy(ILogger logger, string table);

    [LoggerMessage(30, LogLevel.Information, "Outbox dispatcher for {Context} is disabled by OutboxOptions.DispatchEnabled.")]
    public static partial void OutboxDispatchDisabled(ILogger logger, string context);

    [LoggerMessage(31, LogLevel.Error, "Outbox dispatcher for {Context}: a dispatch failed unexpectedly; trying again in {Interval}.")]
    public static partial void OutboxDispatchFailed(ILogger logger, string context, TimeSpan interval, Exception exception);

    [LoggerMessage(32, LogLevel.Warning, "Outbox dispatcher for {Context}: the broker or the database is unavailable (attempt {Attempt}); trying again in {Delay}. Pending messages stay in the outbox: {Reason}")]
    public static partial void OutboxUnavailable(ILogger logger, string context, int attempt, TimeSpan delay, string reason);

    [LoggerMessage(33, LogLevel.Warning, "Outbox: message {MessageId} to {Transport} {Destination} was refused (attempt {Attempt} of {MaxAttempts}): {Error}")]
    public static partial void OutboxMessageRefused(ILogger logger, string messageId, string transport, string destination, int attempt, int maxAttempts, string error);

    [LoggerMessage(34, LogLevel.Error, "Outbox: message {MessageId} to {Transport} {Destination} was refused {Attempts} times and is kept as failed (failed_at set); it is no longer sent. Re-send it with IInboxAdmin.RetryFailedOutboxMessagesAsync or `dotnet inbox outbox failed retry`. Last error: {Error}")]
    public static partial void OutboxMessageFailed(ILogger logger, string messageId, string transport, string destination, int attempts, string error);

    [LoggerMessage(40, LogLevel.Information, "Inbox admin: {Count} failed outbox messages in {Table} ({Selection}) made pending again. Reason: {Reason}")]
    public static partial void AdminOutboxRetried(ILogger logger, int count, string table, string selection, string reason);

    [LoggerMessage(41, LogLevel.Warning, "Inbox admin: {Count} failed outbox messages in {Table} ({Selection}) deleted; they will not be sent. Reason: {Reason}")]
    public static partial void AdminOutboxDeleted(ILogger logger, int count, string table, string selection, string reason);

    [LoggerMessage(42, LogLevel.Warning, "Inbox admin: message {MessageId} of consumer {Consumer} forgotten in {Table} ({Count} records deleted); its next delivery runs the handler again. Reason: {Reason}")]
    public static partial void AdminForgot(ILogger logger, string messageId, string consumer, string table, int count, string reason);

    [LoggerMessage(43, LogLevel.Warning, "Inbox admin: idempotency key {Key} of scope {Scope} forgotten in {Table} ({Count} deleted); its next request runs the endpoint again. Reason: {Reason}")]
    public static partial void AdminKeyForgot(ILogger logger, string key, string scope, string table, int count, string reason);
}
