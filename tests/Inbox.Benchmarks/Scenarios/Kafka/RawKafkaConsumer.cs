using System.Threading.Channels;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;

namespace Inbox.Benchmarks.Scenarios.Kafka;

/// <summary>
/// The baseline: a plain Confluent consumer with the wrapper's batching and nothing else. A dedicated thread consumes
/// and routes each record to its partition's worker; a worker drains up to <c>batchSize</c> records, adds their
/// business rows, runs one SaveChanges (one transaction), then stores offset + 1 (auto-commit with
/// <c>EnableAutoOffsetStore=false</c>, as the wrapper). At most <c>maxConcurrentBatches</c> batches run at once, as the
/// wrapper's <c>MaxConcurrentBatches</c>. No deduplication, no pause/resume (the queues may grow), no retries.
/// </summary>
public sealed class RawKafkaConsumer(IServiceProvider services, ConsumerConfig config, string topic, int batchSize, int maxConcurrentBatches)
{
    private long _committed;

    /// <summary>Gets how many records have had their rows committed.</summary>
    public long Committed => Interlocked.Read(ref _committed);

    /// <summary>Consumes until <paramref name="done"/> says so (it is asked after every committed batch), then closes.</summary>
    public async Task RunAsync(Func<long, bool> done, CancellationToken cancellationToken)
    {
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var gate = new SemaphoreSlim(maxConcurrentBatches, maxConcurrentBatches);
        using var kafka = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig(config) { EnableAutoOffsetStore = false }).Build();
        var queues = new Dictionary<int, Channel<ConsumeResult<byte[]?, byte[]?>>>();
        var workers = new List<Task>();

        async Task WorkAsync(ChannelReader<ConsumeResult<byte[]?, byte[]?>> queue)
        {
            var batch = new List<ConsumeResult<byte[]?, byte[]?>>(batchSize);
            while (await queue.WaitToReadAsync(cancellationToken))
            {
                batch.Clear();
                while (batch.Count < batchSize && queue.TryRead(out var record))
                {
                    batch.Add(record);
                }

                await gate.WaitAsync(cancellationToken);
                try
                {
                    await using var scope = services.CreateAsyncScope();
                    var db = scope.ServiceProvider.GetRequiredService<BenchDbContext>();
                    db.Orders.AddRange(batch.Select(KafkaOrder.ToOrder));
                    await db.SaveChangesAsync(cancellationToken);
                }
                finally
                {
                    gate.Release();
                }

                // Only after the commit, as the wrapper.
                kafka.StoreOffset(new TopicPartitionOffset(batch[^1].TopicPartition, batch[^1].Offset + 1));
                if (done(Interlocked.Add(ref _committed, batch.Count)))
                {
                    finished.TrySetResult();
                }
            }
        }

        var consuming = Task.Factory.StartNew(
            () =>
            {
                kafka.Subscribe(topic);
                while (!finished.Task.IsCompleted && !cancellationToken.IsCancellationRequested)
                {
                    if (kafka.Consume(TimeSpan.FromMilliseconds(100)) is { IsPartitionEOF: false, Message: not null } record)
                    {
                        if (!queues.TryGetValue(record.Partition.Value, out var queue))
                        {
                            queue = queues[record.Partition.Value] = Channel.CreateUnbounded<ConsumeResult<byte[]?, byte[]?>>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
                            workers.Add(Task.Run(() => WorkAsync(queue.Reader), cancellationToken));
                        }

                        queue.Writer.TryWrite(record);
                    }

                    if (workers.FirstOrDefault(w => w.IsFaulted) is { } failed)
                    {
                        finished.TrySetException(failed.Exception!.InnerExceptions);
                    }
                }
            },
            cancellationToken,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

        try
        {
            await finished.Task.WaitAsync(cancellationToken);
        }
        finally
        {
            await consuming;
            foreach (var queue in queues.Values)
            {
                queue.Writer.TryComplete();
            }

            await Task.WhenAll(workers);
            kafka.Close();
        }
    }
}
