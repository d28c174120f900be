using Confluent.Kafka;
using Inbox.Kafka.DeadLettering;
using Inbox.Kafka.Offsets;
using Inbox.Kafka.Telemetry;
using Inbox.Resilience;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Polly;

namespace Inbox.Kafka.Consuming;

/// <summary>
/// Processes one partition's batch until every record in it is committed, skipped as a duplicate, or dead-lettered;
/// only then may the caller store the offset after it. The order is fixed here, and a dead letter always comes before
/// any offset that covers it, so a crash in between costs a second dead letter, never a record skipped unseen:
/// <list type="number">
/// <item>read (deserialize, find the ID); what cannot be read goes to the dead-letter topic first, broker-acknowledged;</item>
/// <item>one inbox transaction for the rest (with database offsets, the offset up to the first record not settled by it,
/// in that transaction);</item>
/// <item>each failed message retried on its own, then dead-lettered, broker-acknowledged;</item>
/// <item>with database offsets, the offset past the whole batch, if the transaction could not write it.</item>
/// </list>
/// A store outage is held by the inbox itself; one longer than <c>InboxOptions.StoreOutageLimit</c> is thrown, and the
/// consumer stops (nothing is dead-lettered for an outage). Other failures of the inbox are retried with back-off. The
/// concurrency slot is held only while the database works, never through a back-off or a dead-letter produce.
/// </summary>
internal sealed class KafkaBatchProcessor<TDbContext, TMessage, THandler>(
    IServiceScopeFactory scopes,
    InboxKafkaConsumerOptions<TMessage> options,
    string consumer,
    IBatchOffsets offsets,
    DeadLetterProducer deadLetters,
    SemaphoreSlim slots,
    InboxKafkaTelemetry telemetry,
    TimeProvider time,
    ILogger logger)
    where TDbContext : DbContext
    where THandler : class, IInboxHandler<TMessage>
{
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(30);
    private static readonly ResiliencePropertyKey<string> Where = new("inbox.kafka.where");
    private static readonly ResiliencePropertyKey<string> MessageId = new("inbox.kafka.message-id");
    private static readonly ResiliencePropertyKey<bool> FirstRunDone = new("inbox.kafka.first-run-done");
    private readonly KafkaEnvelopeReader<TMessage> _reader = new(options, consumer);

    // The back-offs: a failed batch (not the store's fault: the inbox held that one already), a dead letter the broker
    // did not take, and a message whose handler failed (at most HandlerRetries more runs).
    private readonly ResiliencePipeline _batchRetry = Backoff.Build(
        time,
        options.RetryDelay,
        MaxDelay,
        static (exception, context) => !context.CancellationToken.IsCancellationRequested && InboxFailures.Classify(exception) != InboxFailureKind.Store,
        args => Log.BatchFailed(logger, consumer, args.Context.Properties.GetValue(Where, ""), args.AttemptNumber + 1, args.RetryDelay, args.Outcome.Exception!));

    private readonly ResiliencePipeline _deadLetterRetry = Backoff.Build(
        time,
        options.RetryDelay,
        MaxDelay,
        static (exception, context) => !context.CancellationToken.IsCancellationRequested && exception is KafkaException,
        args => Log.DeadLetterFailed(logger, consumer, args.Context.Properties.GetValue(Where, ""), args.AttemptNumber + 1, args.RetryDelay, args.Outcome.Exception!));

    private readonly ResiliencePipeline? _handlerRetry = options.HandlerRetries == 0 ? null : Backoff.Build(
        time,
        options.RetryDelay,
        MaxDelay,
        static (exception, context) => !context.CancellationToken.IsCancellationRequested && InboxFailures.Classify(exception) != InboxFailureKind.Store,
        args => Log.HandlerFailed(
            logger, consumer, args.Context.Properties.GetValue(MessageId, ""), args.Context.Properties.GetValue(Where, ""), args.AttemptNumber + 1, options.HandlerRetries + 1, args.Outcome.Exception!),
        options.HandlerRetries);

    public async Task ProcessAsync(TopicPartition partition, IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> records, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var envelopes = new List<KafkaEnvelope<TMessage>>(records.Count);
        foreach (var record in records)
        {
            envelopes.Add(_reader.Read(record));
        }

        using var activity = InboxKafkaTelemetry.StartProcess(consumer, partition, records, envelopes[0].Description.MessageId);

        foreach (var unreadable in envelopes)
        {
            if (unreadable.DeadLetterReason is not null)
            {
                await DeadLetterAsync(unreadable, cancellationToken).ConfigureAwait(false);
            }
        }

        var nextOffset = records[^1].Offset.Value + 1;
        var (written, failures) = await RetryAsync(
            partition, () => RunInboxAsync(partition, envelopes, nextOffset, cancellationToken), cancellationToken).ConfigureAwait(false);
        foreach (var (envelope, reason, error) in failures)
        {
            envelope.DeadLetter(reason, error);
            await DeadLetterAsync(envelope, cancellationToken).ConfigureAwait(false);
        }

        if (offsets.MustWriteAfter(written, nextOffset))
        {
            await RetryAsync(
                partition,
                () => InSlotAsync(services => offsets.WriteAfterAsync(services.GetRequiredService<TDbContext>(), partition, nextOffset, cancellationToken), cancellationToken),
                cancellationToken).ConfigureAwait(false);
        }

        telemetry.RecordBatch(consumer, partition, records.Count, time.GetElapsedTime(started));
    }

    /// <summary>
    /// The batch's inbox transaction. Returns the offset its transaction wrote and committed (-1 for none) and the
    /// messages that failed and must be dead-lettered.
    /// </summary>
    private async Task<(long Written, List<(KafkaEnvelope<TMessage>, string, Exception)> Failures)> RunInboxAsync(
        TopicPartition partition,
        List<KafkaEnvelope<TMessage>> envelopes,
        long nextOffset,
        CancellationToken cancellationToken)
    {
        var failures = new List<(KafkaEnvelope<TMessage>, string, Exception)>();
        var ready = envelopes.FindAll(static e => e.DeadLetterReason is null);
        if (ready.Count == 0)
        {
            return (-1, failures);
        }

        var last = (Count: 0, Offset: -1L);
        var batchStart = envelopes[0].Record.Offset.Value;
        var result = await InSlotAsync(
            services => services.GetRequiredService<IInbox<TDbContext>>().ProcessBatchAsync(
                consumer,
                ready,
                static e => e.Description,
                async (db, fresh, ct) =>
                {
                    var handler = services.GetRequiredService<THandler>();
                    var outbox = db.Outbox();
                    var proof = await offsets.ProveAsync(db, partition, batchStart, fresh, ct).ConfigureAwait(false);
                    foreach (var envelope in fresh)
                    {
                        if (!proof.Covers(envelope))
                        {
                            await HandleAsync(handler, envelope, outbox, ct).ConfigureAwait(false);
                        }
                    }

                    var written = await offsets.SettleAsync(db, partition, ready, fresh, nextOffset, proof, ct).ConfigureAwait(false);
                    last = (fresh.Count, written);
                },
                cancellationToken),
            cancellationToken).ConfigureAwait(false);

        for (var i = 0; i < ready.Count; i++)
        {
            var envelope = ready[i];
            switch (result.Items[i].Error)
            {
                case null:
                    break;
                case InboxConflictException conflict:
                    failures.Add((envelope, InboxKafkaDeadLetterHeaders.ReasonConflict, conflict));
                    break;
                case InvalidInboxInputException invalid:
                    failures.Add((envelope, InboxKafkaDeadLetterHeaders.ReasonInvalidMessageId, invalid));
                    break;
                case LateMessageException late:
                    failures.Add((envelope, InboxKafkaDeadLetterHeaders.ReasonLateMessage, late));
                    break;
                case var error:
                    if (await RetryHandlerAsync(envelope, error, batchStart, cancellationToken).ConfigureAwait(false) is { } lastError)
                    {
                        failures.Add((envelope, InboxKafkaDeadLetterHeaders.ReasonHandlerFailed, lastError));
                    }

                    break;
            }
        }

        // The last handler call committed what it wrote when every message succeeded and it was the call for the whole
        // batch (after a handler failure the inbox calls again one message at a time, each writing a lower offset).
        var wholeBatchCommitted = result.Failed == 0 && last.Count == result.Items.Count(static i => i.Outcome == InboxOutcome.Processed);
        return (wholeBatchCommitted ? last.Offset : -1, failures);
    }

    /// <summary>Calls the handler with the transaction's outbox in the message's context, for this call only.</summary>
    private static async Task HandleAsync(THandler handler, KafkaEnvelope<TMessage> envelope, OutboxWriter outbox, CancellationToken cancellationToken)
    {
        var context = envelope.Context!;
        context.OutboxWriter = outbox;
        try
        {
            await handler.HandleAsync(envelope.Message, context, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            context.OutboxWriter = null;
        }
    }

    /// <summary>
    /// Tries a failed message again on its own, up to HandlerRetries times with back-off; returns its last error, or null
    /// once it succeeded. The first run is the one the batch made: its error is where the retries start.
    /// </summary>
    private async Task<Exception?> RetryHandlerAsync(KafkaEnvelope<TMessage> envelope, Exception error, long batchStart, CancellationToken cancellationToken)
    {
        var position = envelope.Record.TopicPartitionOffset.ToString();
        var attempts = options.HandlerRetries + 1;
        if (_handlerRetry is null)
        {
            Log.HandlerFailed(logger, consumer, envelope.Description.MessageId, position, 1, attempts, error);
            return error;
        }

        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(Where, position);
        context.Properties.Set(MessageId, envelope.Description.MessageId);
        try
        {
            await _handlerRetry.ExecuteAsync(
                static async (context, s) =>
                {
                    if (context.Properties.TryGetValue(FirstRunDone, out _))
                    {
                        await s.Self.RunAloneAsync(s.Envelope, s.BatchStart, context.CancellationToken).ConfigureAwait(false);
                        return;
                    }

                    context.Properties.Set(FirstRunDone, true);
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(s.Error);
                },
                context,
                (Self: this, Envelope: envelope, BatchStart: batchStart, Error: error)).ConfigureAwait(false);
            return null;
        }
        catch (Exception lastError) when (!cancellationToken.IsCancellationRequested && InboxFailures.Classify(lastError) != InboxFailureKind.Store)
        {
            Log.HandlerFailed(logger, consumer, envelope.Description.MessageId, position, attempts, attempts, lastError);
            return lastError;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>Runs one message in a unit of work of its own, which writes no offset (an unrecorded message is recorded instead).</summary>
    private Task<InboxOutcome> RunAloneAsync(KafkaEnvelope<TMessage> envelope, long batchStart, CancellationToken cancellationToken)
        => InSlotAsync(
            services => services.GetRequiredService<IInbox<TDbContext>>().ProcessAsync(
                consumer,
                envelope.Description,
                async (db, ct) =>
                {
                    if (!(await offsets.ProveAsync(db, envelope.Record.TopicPartition, batchStart, [envelope], ct).ConfigureAwait(false)).Covers(envelope))
                    {
                        await HandleAsync(services.GetRequiredService<THandler>(), envelope, db.Outbox(), ct).ConfigureAwait(false);
                        await offsets.RecordAloneAsync(db, envelope, ct).ConfigureAwait(false);
                    }
                },
                cancellationToken),
            cancellationToken);

    private async Task DeadLetterAsync(KafkaEnvelope<TMessage> envelope, CancellationToken cancellationToken)
    {
        var position = envelope.Record.TopicPartitionOffset.ToString();
        Log.DeadLettering(logger, consumer, position, deadLetters.TopicFor(envelope.Record.Topic), envelope.DeadLetterReason!, envelope.Error);
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(Where, position);
        try
        {
            await _deadLetterRetry.ExecuteAsync(
                static async (context, s) => await s.DeadLetters.ProduceAsync(s.Envelope, context.CancellationToken).ConfigureAwait(false),
                context,
                (DeadLetters: deadLetters, Envelope: envelope)).ConfigureAwait(false);
            telemetry.RecordDeadLettered(consumer, envelope.Record.Topic, envelope.DeadLetterReason!);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>Database work in a DI scope of its own, holding one of the MaxConcurrentBatches slots while it runs.</summary>
    private async Task<T> InSlotAsync<T>(Func<IServiceProvider, Task<T>> work, CancellationToken cancellationToken)
    {
        await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var scope = scopes.CreateAsyncScope();
            await using (scope.ConfigureAwait(false))
            {
                return await work(scope.ServiceProvider).ConfigureAwait(false);
            }
        }
        finally
        {
            slots.Release();
        }
    }

    /// <summary>
    /// Retries what failed with back-off, but for a store failure: the inbox held that one already, for as long as
    /// <c>InboxOptions.StoreOutageLimit</c>, and it stops the consumer.
    /// </summary>
    private async Task<T> RetryAsync<T>(TopicPartition partition, Func<Task<T>> action, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(Where, partition.ToString());
        try
        {
            return await _batchRetry.ExecuteAsync(static async (_, action) => await action().ConfigureAwait(false), context, action).ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }
}
