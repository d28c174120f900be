using Confluent.Kafka;
using Inbox.Kafka.DeadLettering;
using Inbox.Kafka.Offsets;
using Inbox.Kafka.Telemetry;
using Inbox.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

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
    DeadLetterProducer deadLetters,
    SemaphoreSlim slots,
    InboxKafkaTelemetry telemetry,
    TimeProvider time,
    ILogger logger)
    where TDbContext : DbContext
    where THandler : class, IInboxHandler<TMessage>
{
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(30);
    private readonly KafkaEnvelopeReader<TMessage> _reader = new(options, consumer);

    public async Task ProcessAsync(TopicPartition partition, IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> records, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var envelopes = new List<KafkaEnvelope<TMessage>>(records.Count);
        foreach (var record in records)
        {
            envelopes.Add(_reader.Read(record));
        }

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

        if (options.StoreOffsetsInDatabase && written < nextOffset)
        {
            await RetryAsync(partition, () => WriteOffsetAsync(partition, nextOffset, cancellationToken), cancellationToken).ConfigureAwait(false);
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
                    var proof = await ProveAsync(db, partition, batchStart, fresh, ct).ConfigureAwait(false);
                    foreach (var envelope in fresh)
                    {
                        if (!proof.Covers(envelope))
                        {
                            await HandleAsync(handler, envelope, outbox, ct).ConfigureAwait(false);
                        }
                    }

                    if (options.StoreOffsetsInDatabase)
                    {
                        var settled = SettledUpTo(ready, fresh, nextOffset);
                        await RecordBeyondAsync(db, fresh, settled, proof, ct).ConfigureAwait(false);
                        await DatabaseOffsets.WriteAsync(db, consumer, partition, settled, ct).ConfigureAwait(false);
                        last = (fresh.Count, settled);
                    }
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

    /// <summary>
    /// With database offsets, records known by their offset have no inbox record (<see cref="InboxMessage.Unrecorded"/>):
    /// the partition's offset row proves them instead. When such records are among <paramref name="fresh"/>, locks that
    /// row for the transaction and reads its next offset: the records below it were settled by an earlier transaction (a
    /// former owner of the partition that got there first). Records at or past it were recorded if an earlier transaction
    /// processed them past the offset it could write (see <see cref="RecordBeyondAsync"/>), so those are looked up, after
    /// the lock, so that what the lock waited for is seen.
    /// </summary>
    private async Task<OffsetProof> ProveAsync(
        DbContext db, TopicPartition partition, long batchStart, IReadOnlyList<KafkaEnvelope<TMessage>> fresh, CancellationToken cancellationToken)
    {
        if (!fresh.Any(static e => e.Description.Unrecorded))
        {
            return OffsetProof.None;
        }

        // A missing row is created at the batch's first record, never further: a record of the batch that is still to be
        // retried or dead-lettered must not be covered by it.
        var upTo = await DatabaseOffsets.LockAsync(db, consumer, partition, batchStart, cancellationToken).ConfigureAwait(false);
        var past = new List<string>();
        foreach (var envelope in fresh)
        {
            if (envelope.Description.Unrecorded && envelope.Record.Offset.Value >= upTo)
            {
                past.Add(envelope.Description.MessageId);
            }
        }

        var recorded = past.Count == 0
            ? []
            : (await InboxRecords.LookUpAsync(db, consumer, past, cancellationToken).ConfigureAwait(false));
        return new OffsetProof(upTo, recorded);
    }

    /// <summary>
    /// Records the unrecorded messages this transaction processed at or past the offset it writes: the offset row does not
    /// cover them (a duplicate or a rejected record before them holds it back), so without a record a crash before the
    /// offset moves on would run them again.
    /// </summary>
    private Task RecordBeyondAsync(DbContext db, IReadOnlyList<KafkaEnvelope<TMessage>> fresh, long settled, OffsetProof proof, CancellationToken cancellationToken)
    {
        List<InboxMessage>? beyond = null;
        foreach (var envelope in fresh)
        {
            if (envelope.Description.Unrecorded && envelope.Record.Offset.Value >= settled && !proof.Covers(envelope))
            {
                (beyond ??= []).Add(envelope.Description);
            }
        }

        return beyond is null ? Task.CompletedTask : InboxRecords.RecordAsync(db, consumer, beyond, time.GetUtcNow(), cancellationToken);
    }

    /// <summary>What a batch's transaction found settled before it: records below an offset, and recorded IDs past it.</summary>
    private sealed record OffsetProof(long UpTo, HashSet<string> Recorded)
    {
        public static readonly OffsetProof None = new(-1, []);

        public bool Covers(KafkaEnvelope<TMessage> envelope)
            => envelope.Description.Unrecorded && (envelope.Record.Offset.Value < UpTo || Recorded.Contains(envelope.Description.MessageId));
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
    /// The offset up to which the records are settled once these new messages commit: up to the first message that is
    /// neither new nor a later copy of a new one. That one may be a duplicate, or a message the inbox rejects (to be
    /// dead-lettered after the commit), which no committed offset may pass before its dead letter is acknowledged.
    /// </summary>
    private static long SettledUpTo(List<KafkaEnvelope<TMessage>> ready, IReadOnlyList<KafkaEnvelope<TMessage>> fresh, long nextOffset)
    {
        var freshIds = new HashSet<string>(fresh.Count, StringComparer.Ordinal);
        foreach (var envelope in fresh)
        {
            freshIds.Add(envelope.Description.MessageId);
        }

        foreach (var envelope in ready)
        {
            if (!freshIds.Contains(envelope.Description.MessageId))
            {
                return envelope.Record.Offset.Value;
            }
        }

        return nextOffset;
    }

    /// <summary>Tries a failed message again on its own; returns its last error, or null once it succeeded.</summary>
    private async Task<Exception?> RetryHandlerAsync(KafkaEnvelope<TMessage> envelope, Exception error, long batchStart, CancellationToken cancellationToken)
    {
        var attempts = options.HandlerRetries + 1;
        var position = envelope.Record.TopicPartitionOffset.ToString();
        for (var attempt = 1; ; attempt++)
        {
            Log.HandlerFailed(logger, consumer, envelope.Description.MessageId, position, attempt, attempts, error);
            if (attempt == attempts)
            {
                return error;
            }

            await Task.Delay(Backoff(attempt), time, cancellationToken).ConfigureAwait(false);
            try
            {
                await InSlotAsync(
                    services => services.GetRequiredService<IInbox<TDbContext>>().ProcessAsync(
                        consumer,
                        envelope.Description,
                        async (db, ct) =>
                        {
                            // This unit writes no offset: an unrecorded message it processes is recorded instead.
                            if (!(await ProveAsync(db, envelope.Record.TopicPartition, batchStart, [envelope], ct).ConfigureAwait(false)).Covers(envelope))
                            {
                                await HandleAsync(services.GetRequiredService<THandler>(), envelope, db.Outbox(), ct).ConfigureAwait(false);
                                if (envelope.Description.Unrecorded)
                                {
                                    await InboxRecords.RecordAsync(db, consumer, [envelope.Description], time.GetUtcNow(), ct).ConfigureAwait(false);
                                }
                            }
                        },
                        cancellationToken),
                    cancellationToken).ConfigureAwait(false);
                return null;
            }
            catch (Exception retryError) when (!cancellationToken.IsCancellationRequested && InboxFailures.Classify(retryError) != InboxFailureKind.Store)
            {
                error = retryError;
            }
        }
    }

    private async Task DeadLetterAsync(KafkaEnvelope<TMessage> envelope, CancellationToken cancellationToken)
    {
        var position = envelope.Record.TopicPartitionOffset.ToString();
        Log.DeadLettering(logger, consumer, position, deadLetters.TopicFor(envelope.Record.Topic), envelope.DeadLetterReason!, envelope.Error);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await deadLetters.ProduceAsync(envelope, cancellationToken).ConfigureAwait(false);
                telemetry.RecordDeadLettered(consumer, envelope.Record.Topic, envelope.DeadLetterReason!);
                return;
            }
            catch (KafkaException exception) when (!cancellationToken.IsCancellationRequested)
            {
                var delay = Backoff(attempt);
                Log.DeadLetterFailed(logger, consumer, position, attempt, delay, exception);
                await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private Task<bool> WriteOffsetAsync(TopicPartition partition, long nextOffset, CancellationToken cancellationToken)
        => InSlotAsync(
            async services =>
            {
                await DatabaseOffsets.WriteAsync(services.GetRequiredService<TDbContext>(), consumer, partition, nextOffset, cancellationToken).ConfigureAwait(false);
                return true;
            },
            cancellationToken);

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
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await action().ConfigureAwait(false);
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested && InboxFailures.Classify(exception) != InboxFailureKind.Store)
            {
                var delay = Backoff(attempt);
                Log.BatchFailed(logger, consumer, partition.ToString(), attempt, delay, exception);
                await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private TimeSpan Backoff(int attempt)
    {
        var delay = options.RetryDelay * Math.Pow(2, Math.Min(attempt - 1, 16));
        return delay < MaxDelay ? delay : MaxDelay;
    }
}
