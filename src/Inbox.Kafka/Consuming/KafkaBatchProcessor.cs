using System.Data.Common;
using Confluent.Kafka;
using Inbox.Kafka.DeadLettering;
using Inbox.Kafka.Offsets;
using Inbox.Kafka.Telemetry;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Inbox.Kafka.Consuming;

/// <summary>
/// Processes one partition's batch until every record in it is committed, skipped as a duplicate, or dead-lettered;
/// only then may the caller store the offset after it. The order is fixed here:
/// read (deserialize, find the ID) → one inbox transaction for the batch (the handler per new message, and with
/// database offsets the partition's next offset, all in that transaction) → each failed message retried on its own
/// → dead-letter what still failed → (database offsets) write the next offset if the batch transaction did not.
/// A database that fails (a transient fault, or any exception the inbox throws) fails the whole batch, which is
/// retried with back-off until it succeeds or the partition is taken away: nothing is dead-lettered for an outage.
/// </summary>
internal sealed class KafkaBatchProcessor<TDbContext, TMessage, THandler>(
    IServiceScopeFactory scopes,
    InboxKafkaConsumerOptions<TMessage> options,
    string consumer,
    DeadLetterProducer deadLetters,
    TimeProvider time,
    ILogger logger)
    where TDbContext : DbContext
    where THandler : class, IInboxHandler<TMessage>
{
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(30);
    private readonly KafkaEnvelopeReader<TMessage> _reader = new(options, consumer);

    public async Task ProcessAsync(TopicPartition partition, IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> records, CancellationToken cancellationToken)
    {
        var envelopes = records.Select(_reader.Read).ToList();
        var nextOffset = records[^1].Offset.Value + 1;
        var (offsetWritten, failures) = await RetryAsync(
            partition, () => RunInboxAsync(partition, envelopes, nextOffset, cancellationToken), cancellationToken).ConfigureAwait(false);
        foreach (var (envelope, reason, error) in failures)
        {
            envelope.DeadLetter(reason, error);
        }

        foreach (var envelope in envelopes.Where(e => e.DeadLetterReason is not null))
        {
            await DeadLetterAsync(envelope, cancellationToken).ConfigureAwait(false);
        }

        if (options.StoreOffsetsInDatabase && !offsetWritten)
        {
            await RetryAsync(partition, () => WriteOffsetAsync(partition, nextOffset, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<(bool OffsetWritten, List<(KafkaEnvelope<TMessage>, string, Exception)> Failures)> RunInboxAsync(
        TopicPartition partition,
        List<KafkaEnvelope<TMessage>> envelopes,
        long nextOffset,
        CancellationToken cancellationToken)
    {
        var failures = new List<(KafkaEnvelope<TMessage>, string, Exception)>();
        var ready = envelopes.FindAll(e => e.DeadLetterReason is null);
        if (ready.Count == 0)
        {
            return (false, failures);
        }

        var scope = scopes.CreateAsyncScope();
        InboxBatchResult result;
        var fullCount = -1;
        var offsetWritten = false;
        await using (scope.ConfigureAwait(false))
        {
            var inbox = scope.ServiceProvider.GetRequiredService<IInbox<TDbContext>>();
            var handler = scope.ServiceProvider.GetRequiredService<THandler>();
            result = await inbox.ProcessBatchAsync(
                consumer,
                ready,
                static e => e.Description,
                async (db, fresh, ct) =>
                {
                    // The first call gets every new message; after a failure the inbox calls again with one message at a
                    // time. The next offset belongs in the transaction only when it covers the whole batch.
                    fullCount = fullCount < 0 ? fresh.Count : fullCount;
                    offsetWritten = false;
                    foreach (var envelope in fresh)
                    {
                        await handler.HandleAsync(envelope.Message, envelope.Context!, ct).ConfigureAwait(false);
                    }

                    if (options.StoreOffsetsInDatabase && fresh.Count == fullCount)
                    {
                        await DatabaseOffsets.WriteAsync(db, consumer, partition, nextOffset, ct).ConfigureAwait(false);
                        offsetWritten = true;
                    }
                },
                cancellationToken).ConfigureAwait(false);
        }

        for (var i = 0; i < ready.Count; i++)
        {
            var envelope = ready[i];
            var item = result.Items[i];
            switch (item.Error)
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
                case var error when InboxFailures.Classify(error) == InboxFailureKind.Store:
                    throw new InvalidOperationException($"The database failed while processing {envelope.Record.TopicPartitionOffset}.", error);
                case var error:
                    if (await RetryHandlerAsync(envelope, error, cancellationToken).ConfigureAwait(false) is { } lastError)
                    {
                        failures.Add((envelope, InboxKafkaDeadLetterHeaders.ReasonHandlerFailed, lastError));
                    }

                    break;
            }
        }

        return (offsetWritten && result.Failed == 0, failures);
    }

    /// <summary>Tries a failed message again on its own; returns its last error, or null once it succeeded.</summary>
    private async Task<Exception?> RetryHandlerAsync(KafkaEnvelope<TMessage> envelope, Exception error, CancellationToken cancellationToken)
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
            var scope = scopes.CreateAsyncScope();
            await using (scope.ConfigureAwait(false))
            {
                var inbox = scope.ServiceProvider.GetRequiredService<IInbox<TDbContext>>();
                var handler = scope.ServiceProvider.GetRequiredService<THandler>();
                try
                {
                    await inbox.ProcessAsync(
                        consumer,
                        envelope.Description,
                        (_, ct) => handler.HandleAsync(envelope.Message, envelope.Context!, ct),
                        cancellationToken).ConfigureAwait(false);
                    return null;
                }
                catch (Exception retryError) when (!cancellationToken.IsCancellationRequested && InboxFailures.Classify(retryError) != InboxFailureKind.Store)
                {
                    error = retryError;
                }
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

    private async Task<bool> WriteOffsetAsync(TopicPartition partition, long nextOffset, CancellationToken cancellationToken)
    {
        var scope = scopes.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            var db = scope.ServiceProvider.GetRequiredService<TDbContext>();
            await DatabaseOffsets.WriteAsync(db, consumer, partition, nextOffset, cancellationToken).ConfigureAwait(false);
            return true;
        }
    }

    private async Task<T> RetryAsync<T>(TopicPartition partition, Func<Task<T>> action, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await action().ConfigureAwait(false);
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
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
