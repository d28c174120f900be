using System.Threading.Channels;
using Confluent.Kafka;

namespace Inbox.Kafka.Consuming;

/// <summary>
/// The worker of one assigned partition: takes the records the consume thread hands it, in order, drains up to a
/// batch at a time, processes the batch and stores the offset after it. One batch at a time, so order holds within the
/// partition. <see cref="Finish"/> lets the batch in flight complete; <see cref="Drop"/> cancels it uncommitted.
/// </summary>
internal sealed class PartitionWorker
{
    private readonly Channel<ConsumeResult<byte[]?, byte[]?>> _queue =
        Channel.CreateUnbounded<ConsumeResult<byte[]?, byte[]?>>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

    private readonly CancellationTokenSource _drop;
    private readonly int _batchSize;
    private readonly Func<TopicPartition, IReadOnlyList<ConsumeResult<byte[]?, byte[]?>>, CancellationToken, Task> _process;
    private readonly Action<TopicPartitionOffset> _store;
    private int _queued;
    private volatile bool _finishing;

    public PartitionWorker(
        TopicPartition partition,
        int batchSize,
        Func<TopicPartition, IReadOnlyList<ConsumeResult<byte[]?, byte[]?>>, CancellationToken, Task> process,
        Action<TopicPartitionOffset> store,
        CancellationToken stopping)
    {
        Partition = partition;
        _batchSize = batchSize;
        _process = process;
        _store = store;
        _drop = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        Completion = Task.Run(RunAsync, CancellationToken.None);

        // Disposed by its own completion, not by whoever gives the partition up: a dropped batch may still be unwinding.
        Completion.ContinueWith(static (_, drop) => ((CancellationTokenSource)drop!).Dispose(), _drop, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    public TopicPartition Partition { get; }

    /// <summary>Completes when the worker has stopped; faults when a batch failed in a way the processor does not retry.</summary>
    public Task Completion { get; }

    /// <summary>Gets how many records wait to be processed.</summary>
    public int Queued => Volatile.Read(ref _queued);

    public bool Paused { get; set; }

    public void Enqueue(ConsumeResult<byte[]?, byte[]?> record)
    {
        if (_queue.Writer.TryWrite(record))
        {
            Interlocked.Increment(ref _queued);
        }
    }

    /// <summary>Finishes the batch in flight (and stores its offset), then stops; queued records are left for the next owner.</summary>
    public void Finish()
    {
        _finishing = true;
        _queue.Writer.TryComplete();
    }

    /// <summary>Cancels the batch in flight uncommitted and stops.</summary>
    public void Drop()
    {
        _finishing = true;
        _queue.Writer.TryComplete();
        if (!Completion.IsCompleted)
        {
            try
            {
                _drop.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // It completed meanwhile.
            }
        }
    }

    private async Task RunAsync()
    {
        var token = _drop.Token;
        var batch = new List<ConsumeResult<byte[]?, byte[]?>>(_batchSize);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(token).ConfigureAwait(false) && !_finishing)
            {
                batch.Clear();
                while (batch.Count < _batchSize && _queue.Reader.TryRead(out var record))
                {
                    Interlocked.Decrement(ref _queued);
                    batch.Add(record);
                }

                await _process(Partition, batch, token).ConfigureAwait(false);

                // Only after the batch's database commit (and dead-letter acknowledgements): never before.
                if (!token.IsCancellationRequested)
                {
                    _store(new TopicPartitionOffset(Partition, batch[^1].Offset + 1));
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Dropped: the partition was lost or the consumer stopped hard. Nothing of the batch is stored.
        }
    }
}
