using System.Text;
using Confluent.Kafka;
using Inbox.Operations;

namespace Inbox.Kafka.DeadLettering;

/// <summary>
/// One run of a dead-letter replay. The partitions are assigned, not subscribed (no rebalance to wait for), and read
/// from the group's committed offset (or a time) to the high watermark taken at the start, so dead letters written
/// while it runs wait for the next replay. Records go out in chunks: each chunk is produced, every acknowledgement
/// awaited, then its offsets committed, so a replay stopped at any point resumes after the last acknowledged chunk.
/// </summary>
internal sealed class DeadLetterReplay(KafkaDeadLetterReplayOptions options, TimeProvider time)
{
    private const int ChunkSize = 500;
    private static readonly TimeSpan MetadataTimeout = TimeSpan.FromSeconds(10);

    // How long the replay waits for a record it knows is there before it gives up (the broker unreachable).
    private static readonly TimeSpan Stalled = TimeSpan.FromSeconds(60);

    private readonly DeadLetterTally _tally = new(options.Reason, options.MessageIds, options.DryRun);

    // Progress is kept only by a replay that sends every dead letter it reads: a filtered one reads past dead letters it
    // leaves, and committing past them would hide them from the next replay (RabbitMQ's leaves them in the queue).
    private readonly bool _keepsProgress = !options.DryRun && options.Reason is null && options.MessageIds is null;

    public async Task<DeadLetterReplayResult> RunAsync(CancellationToken cancellationToken)
    {
        var topic = options.DeadLetterTopic;
        var partitions = Partitions(topic);
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig(new Dictionary<string, string>(options.Cluster))
        {
            GroupId = options.GroupId,
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,

            // The end of a partition is told by the consumer, not by offset + 1 reaching the high watermark: transaction
            // markers and aborted records take offsets that are never delivered.
            EnablePartitionEof = true,
        }).Build();

        var ends = partitions.ToDictionary(p => p, p => consumer.QueryWatermarkOffsets(p, MetadataTimeout));
        var starts = Starts(consumer, partitions, ends);
        var remaining = starts.Where(s => s.Offset.Value < ends[s.TopicPartition].High.Value).Select(s => s.TopicPartition).ToHashSet();
        if (remaining.Count == 0)
        {
            return Result(complete: true);
        }

        consumer.Assign(starts.Where(s => remaining.Contains(s.TopicPartition)));
        using var producer = options.DryRun ? null : new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig(new Dictionary<string, string>(options.Cluster))
        {
            Acks = Acks.All,
            EnableIdempotence = true,
        }).Build();

        var chunk = new List<Task>(ChunkSize);
        var progress = new Dictionary<TopicPartition, TopicPartitionOffset>();
        var readSinceCommit = 0;
        var lastRecord = time.GetTimestamp();
        try
        {
            while (remaining.Count > 0 && !(options.Limit is { } limit && _tally.Read >= limit))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var record = consumer.Consume(TimeSpan.FromMilliseconds(500));
                if (record is null)
                {
                    if (time.GetElapsedTime(lastRecord) > Stalled)
                    {
                        throw new TimeoutException($"No dead letter came from {topic} for {Stalled.TotalSeconds:0} s although {remaining.Count} partitions have more: is the cluster reachable?");
                    }

                    continue;
                }

                lastRecord = time.GetTimestamp();
                var partition = record.TopicPartition;
                if (record.IsPartitionEOF || record.Offset.Value >= ends[partition].High.Value)
                {
                    // Done: what was written after the replay started waits for the next one.
                    remaining.Remove(partition);
                    consumer.Pause([partition]);
                    continue;
                }

                Replay(producer, record, chunk);
                progress[partition] = new TopicPartitionOffset(partition, record.Offset + 1);
                if (record.Offset.Value + 1 >= ends[partition].High.Value)
                {
                    remaining.Remove(partition);
                    consumer.Pause([partition]);
                }

                // A commit (and a report) every chunk of records read, however few of them a filter sends.
                if (++readSinceCommit >= ChunkSize)
                {
                    readSinceCommit = 0;
                    await CommitAsync(consumer, chunk, progress).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            // What is in flight is awaited and committed even when the replay was cancelled or failed: the resumed
            // replay then starts after it. A failed produce leaves its chunk uncommitted, to be replayed again.
            await CommitAsync(consumer, chunk, progress).ConfigureAwait(false);
            consumer.Close();
        }

        return Result(complete: remaining.Count == 0);
    }

    private DeadLetterReplayResult Result(bool complete) => _tally.Result(complete);

    private List<TopicPartition> Partitions(string topic)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig(new Dictionary<string, string>(options.Cluster))).Build();
        var metadata = admin.GetMetadata(topic, MetadataTimeout).Topics.SingleOrDefault(t => t.Topic == topic);
        if (metadata is null || metadata.Error.IsError || metadata.Partitions.Count == 0)
        {
            throw new InvalidOperationException($"The dead-letter topic {topic} does not exist{(metadata?.Error.IsError == true ? $" ({metadata.Error.Reason})" : "")}.");
        }

        return [.. metadata.Partitions.Select(p => new TopicPartition(topic, p.PartitionId))];
    }

    // From a time when one is given, else from the group's committed offset, else from the beginning.
    private List<TopicPartitionOffset> Starts(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartition> partitions, Dictionary<TopicPartition, WatermarkOffsets> ends)
    {
        if (options.From is { } from)
        {
            return [.. consumer.OffsetsForTimes(partitions.Select(p => new TopicPartitionTimestamp(p, new Timestamp(from))), MetadataTimeout)
                .Select(o => o.Offset == Offset.End || o.Offset.Value < 0 ? new TopicPartitionOffset(o.TopicPartition, ends[o.TopicPartition].High) : o)];
        }

        return [.. consumer.Committed(partitions, MetadataTimeout)
            .Select(c => c.Offset.Value >= 0 ? c : new TopicPartitionOffset(c.TopicPartition, ends[c.TopicPartition].Low))];
    }

    private void Replay(IProducer<byte[]?, byte[]?>? producer, ConsumeResult<byte[]?, byte[]?> record, List<Task> chunk)
    {
        var headers = record.Message.Headers ?? [];
        var messageId = Text(headers, InboxKafkaDeadLetterHeaders.MessageId) ?? MessageIdHeaders.Defaults.Select(h => Text(headers, h)).FirstOrDefault(v => v is not null);
        if (!_tally.Select(Text(headers, InboxKafkaDeadLetterHeaders.Reason), messageId))
        {
            return;
        }

        if (Text(headers, InboxKafkaDeadLetterHeaders.OriginalTopic) is not { Length: > 0 } original)
        {
            _tally.NoSource();
            return;
        }

        if (producer is null)
        {
            return;
        }

        // The original headers without the dead letter's own; the message ID as a header when the record carried none
        // there (it came from the value, or from the record's offset, which the replayed record does not keep).
        var replayed = new Headers();
        foreach (var header in headers.Where(h => !h.Key.StartsWith("inbox-dlt-", StringComparison.Ordinal)))
        {
            replayed.Add(header.Key, header.GetValueBytes());
        }

        if (messageId is not null && !MessageIdHeaders.Defaults.Any(h => replayed.TryGetLastBytes(h, out _)))
        {
            replayed.Add(MessageIdHeaders.Replayed, Encoding.UTF8.GetBytes(messageId));
        }

        chunk.Add(producer.ProduceAsync(original, new Message<byte[]?, byte[]?> { Key = record.Message.Key, Value = record.Message.Value, Headers = replayed }));
    }

    private async Task CommitAsync(IConsumer<byte[]?, byte[]?> consumer, List<Task> chunk, Dictionary<TopicPartition, TopicPartitionOffset> progress)
    {
        await Task.WhenAll(chunk).ConfigureAwait(false);
        _tally.Sent(chunk.Count);
        chunk.Clear();
        if (_keepsProgress && progress.Count > 0)
        {
            consumer.Commit(progress.Values);
        }

        progress.Clear();
        options.Progress?.Report(Result(complete: false));
    }

    private static string? Text(Headers headers, string key) => headers.TryGetLastBytes(key, out var bytes) ? Encoding.UTF8.GetString(bytes) : null;
}
