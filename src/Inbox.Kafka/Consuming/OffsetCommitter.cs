using Confluent.Kafka;
using Inbox.Kafka.Telemetry;
using Microsoft.Extensions.Logging;

namespace Inbox.Kafka.Consuming;

/// <summary>
/// Stores each partition's next offset once its batch is committed to the database (and its dead letters are
/// acknowledged), and commits the stored offsets: every interval when the application turned auto-commit off, and
/// before partitions are given up. A failed store or commit is logged, never fatal: the inbox makes a redelivery harmless.
/// </summary>
internal sealed class OffsetCommitter(IKafkaClient kafka, bool manualCommit, TimeSpan interval, TimeProvider time, ILogger logger, string consumer)
{
    private long _lastCommit = time.GetTimestamp();

    public void Store(TopicPartitionOffset offset)
    {
        try
        {
            kafka.StoreOffset(offset);
        }
        catch (KafkaException exception)
        {
            Log.StoreFailed(logger, consumer, offset.TopicPartition.ToString(), offset.Offset.Value, exception.Error.Reason);
        }
    }

    public void Commit()
    {
        _lastCommit = time.GetTimestamp();
        try
        {
            kafka.Commit();
        }
        catch (KafkaException exception) when (exception.Error.Code == ErrorCode.Local_NoOffset)
        {
            // Nothing stored since the last commit.
        }
        catch (KafkaException exception)
        {
            Log.CommitFailed(logger, consumer, exception.Error.Reason);
        }
    }

    /// <summary>With auto-commit off, commits when the interval has passed since the last commit.</summary>
    public void CommitIfDue()
    {
        if (manualCommit && time.GetElapsedTime(_lastCommit) >= interval)
        {
            Commit();
        }
    }
}
