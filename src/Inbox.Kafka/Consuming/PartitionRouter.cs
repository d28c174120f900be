using Confluent.Kafka;
using Inbox.Kafka.Telemetry;
using Microsoft.Extensions.Logging;

namespace Inbox.Kafka.Consuming;

/// <summary>
/// Owns the assigned partitions' workers on the consume thread: hands each record to its partition's worker and
/// applies back-pressure. A partition holding <c>pauseAt</c> records is paused, and resumed at half of that: librdkafka
/// drops a paused partition's prefetched records and a resumed one takes a while to fetch again, so the resume comes
/// early enough for the worker's backlog to hide it. A low <c>pauseAt</c> starves the worker (docs/benchmarks.md has the
/// figures).
/// Called from the consume thread only, but for <see cref="Faulted"/> and <see cref="PausedCount"/>.
/// </summary>
internal sealed class PartitionRouter(
    IKafkaClient kafka,
    Func<TopicPartition, PartitionWorker> startWorker,
    int pauseAt,
    ILogger logger,
    string consumer)
{
    private readonly Dictionary<TopicPartition, PartitionWorker> _workers = [];
    private readonly int _resumeAt = pauseAt / 2;
    private int _paused;
    private PartitionWorker? _faulted;

    /// <summary>Gets a worker that failed unexpectedly, if one did; set from the worker's completion, read without a scan.</summary>
    public PartitionWorker? Faulted => Volatile.Read(ref _faulted);

    /// <summary>Gets how many partitions are paused now.</summary>
    public int PausedCount => Volatile.Read(ref _paused);

    /// <summary>Gets how many partitions have a worker.</summary>
    public int Count => _workers.Count;

    public void Route(ConsumeResult<byte[]?, byte[]?> record)
    {
        var worker = WorkerFor(record.TopicPartition);
        worker.Enqueue(record);
        if (!worker.Paused && worker.Queued >= pauseAt)
        {
            try
            {
                kafka.Pause([worker.Partition]);
                worker.Paused = true;
                Interlocked.Increment(ref _paused);
                Log.Paused(logger, consumer, worker.Partition.ToString(), worker.Queued);
            }
            catch (KafkaException exception)
            {
                Log.PauseFailed(logger, consumer, worker.Partition.ToString(), exception.Error.Reason);
            }
        }
    }

    /// <summary>Starts a worker for each newly assigned partition.</summary>
    public void Ensure(IEnumerable<TopicPartition> partitions)
    {
        foreach (var partition in partitions)
        {
            WorkerFor(partition);
        }
    }

    /// <summary>Resumes the paused partitions whose workers have drained to half; returns whether any stays paused.</summary>
    public bool ResumeDrained()
    {
        if (PausedCount == 0)
        {
            return false;
        }

        foreach (var worker in _workers.Values)
        {
            if (worker.Paused && worker.Queued <= _resumeAt)
            {
                Resume([worker]);
                Log.Resumed(logger, consumer, worker.Partition.ToString(), worker.Queued);
            }
        }

        return PausedCount > 0;
    }

    /// <summary>
    /// Resumes newly assigned partitions: librdkafka keeps a partition's pause across revocation and reassignment, while
    /// its new worker starts unpaused.
    /// </summary>
    public void ResumeAssigned(List<TopicPartition> partitions)
    {
        try
        {
            kafka.Resume(partitions);
        }
        catch (KafkaException exception)
        {
            // Revoked again before this ran: the next assignment resumes them.
            Log.ResumeFailed(logger, consumer, string.Join(", ", partitions), exception.Error.Reason);
        }
    }

    /// <summary>Removes the workers of these partitions (every one when <see langword="null"/>) and returns them.</summary>
    public List<PartitionWorker> Take(IEnumerable<TopicPartition>? partitions)
    {
        var taken = new List<PartitionWorker>();
        foreach (var partition in partitions ?? [.. _workers.Keys])
        {
            if (_workers.Remove(partition, out var worker))
            {
                if (worker.Paused)
                {
                    worker.Paused = false;
                    Interlocked.Decrement(ref _paused);
                }

                taken.Add(worker);
            }
        }

        return taken;
    }

    private PartitionWorker WorkerFor(TopicPartition partition)
    {
        if (!_workers.TryGetValue(partition, out var worker))
        {
            worker = _workers[partition] = startWorker(partition);
            worker.Completion.ContinueWith(
                (completion, state) =>
                {
                    if (completion.IsFaulted)
                    {
                        Interlocked.CompareExchange(ref _faulted, (PartitionWorker)state!, null);
                    }
                },
                worker,
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }

        return worker;
    }

    private void Resume(List<PartitionWorker> workers)
    {
        try
        {
            kafka.Resume(workers.ConvertAll(static w => w.Partition));
        }
        catch (KafkaException exception)
        {
            Log.ResumeFailed(logger, consumer, string.Join(", ", workers.Select(static w => w.Partition)), exception.Error.Reason);
        }

        foreach (var worker in workers)
        {
            worker.Paused = false;
            Interlocked.Decrement(ref _paused);
        }
    }
}
