using Confluent.Kafka;
using Inbox.Kafka.Telemetry;
using Microsoft.Extensions.Logging;

namespace Inbox.Kafka.Consuming;

/// <summary>
/// The consumer group's callbacks. On assignment: a worker per partition, seeking to the database's offsets when they
/// are kept there. On revocation: the in-flight batches finish and their offsets are committed before the partitions
/// are given up, the whole callback bounded by one <c>RevocationTimeout</c> (what has not finished by then is dropped
/// uncommitted). On loss: in-flight work is dropped and nothing committed.
/// </summary>
internal sealed class RebalanceHandler(
    PartitionRouter router,
    OffsetCommitter committer,
    Func<List<TopicPartition>, IReadOnlyDictionary<TopicPartition, long>> storedOffsets,
    TimeSpan revocationTimeout,
    TimeProvider time,
    ILogger logger,
    string consumer)
{
    private List<TopicPartition>? _resumeAfterAssignment;

    public List<TopicPartitionOffset> OnAssigned(List<TopicPartition> partitions)
    {
        var stored = storedOffsets(partitions);
        router.Ensure(partitions);
        var positions = new List<TopicPartitionOffset>(partitions.Count);
        foreach (var partition in partitions)
        {
            if (stored.TryGetValue(partition, out var offset))
            {
                Log.SeekingToDatabaseOffset(logger, consumer, partition.ToString(), offset);
                positions.Add(new TopicPartitionOffset(partition, offset));
            }
            else
            {
                positions.Add(new TopicPartitionOffset(partition, Offset.Unset));
            }
        }

        _resumeAfterAssignment = [.. partitions];
        Log.Assigned(logger, consumer, string.Join(", ", partitions));
        return positions;
    }

    public void OnRevoked(List<TopicPartition> partitions)
    {
        Finish(router.Take(partitions));
        committer.Commit();
        Log.Revoked(logger, consumer, string.Join(", ", partitions));
    }

    public void OnLost(List<TopicPartition> partitions)
    {
        Drop(router.Take(partitions));
        Log.Lost(logger, consumer, string.Join(", ", partitions));
    }

    /// <summary>On stop: every partition's batch in flight finishes (within the timeout) and the offsets are committed.</summary>
    public void FinishAll()
    {
        Finish(router.Take(null));
        committer.Commit();
    }

    /// <summary>On a crash or <c>Local_MaxPollExceeded</c>: every partition's work is dropped, nothing committed.</summary>
    public void DropAll() => Drop(router.Take(null));

    /// <summary>The partitions assigned since the last call, to resume on the consume thread (outside the callback).</summary>
    public List<TopicPartition>? TakeAssigned()
    {
        var assigned = _resumeAfterAssignment;
        _resumeAfterAssignment = null;
        return assigned;
    }

    private void Finish(List<PartitionWorker> workers)
    {
        workers.ForEach(static w => w.Finish());
        if (!WaitFor(workers, revocationTimeout))
        {
            // The deadline is spent: drop what is left without waiting again (it is cancelled and unwinds on its own).
            Log.RevocationTimedOut(logger, consumer, string.Join(", ", workers.Select(w => w.Partition)), revocationTimeout);
            workers.ForEach(static w => w.Drop());
        }
    }

    private void Drop(List<PartitionWorker> workers)
    {
        workers.ForEach(static w => w.Drop());
        WaitFor(workers, revocationTimeout);
    }

    private bool WaitFor(List<PartitionWorker> workers, TimeSpan timeout)
    {
        if (workers.Count == 0)
        {
            return true;
        }

        try
        {
            Task.WhenAll(workers.Select(static w => w.Completion)).WaitAsync(timeout, time).GetAwaiter().GetResult();
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
        catch (Exception exception)
        {
            Log.WorkerFailed(logger, consumer, string.Join(", ", workers.Select(w => w.Partition)), exception);
            return true;
        }
    }
}
