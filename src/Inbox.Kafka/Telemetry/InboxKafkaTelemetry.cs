using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Inbox.Telemetry;

namespace Inbox.Kafka.Telemetry;

/// <summary>
/// The Kafka adapter's instruments, on the same <c>Inbox</c> meter as the core's: batches (size and duration),
/// dead-lettered records by reason, paused partitions, and consumer lag from librdkafka's statistics.
/// </summary>
internal sealed class InboxKafkaTelemetry
{
    private const string Consumer = "messaging.consumer.group.name";
    private const string Topic = "messaging.destination.name";
    private const string Partition = "messaging.destination.partition.id";
    private const string Reason = "inbox.dead_letter.reason";

    private static readonly string? Version = typeof(InboxKafkaTelemetry).Assembly.GetName().Version?.ToString();

    private readonly Histogram<double> _batchDuration;
    private readonly Histogram<int> _batchSize;
    private readonly Counter<long> _deadLettered;
    private readonly ConcurrentDictionary<string, Func<int>> _paused = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Consumer, string Topic, int Partition), long> _lag = new();

    public InboxKafkaTelemetry(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create("Inbox", Version);
        _batchDuration = meter.CreateHistogram<double>("inbox.kafka.batch.duration", "s", "Time to process one partition's batch: inbox transaction, retries and dead letters.");
        _batchSize = meter.CreateHistogram<int>("inbox.kafka.batch.size", "{message}", "Records in one partition's batch.");
        _deadLettered = meter.CreateCounter<long>("inbox.kafka.dead_lettered", "{message}", "Records produced to a dead-letter topic, by reason.");
        meter.CreateObservableGauge("inbox.kafka.partitions.paused", ObservePaused, "{partition}", "Partitions paused because their workers hold too many records.");
        meter.CreateObservableGauge("inbox.kafka.consumer.lag", ObserveLag, "{message}", "Records between a partition's end and the consumer's position, from librdkafka's statistics.");
    }

    public void RecordBatch(string consumer, TopicPartition partition, int size, TimeSpan duration)
    {
        var tags = new TagList { { Consumer, consumer }, { Topic, partition.Topic }, { Partition, partition.Partition.Value } };
        _batchSize.Record(size, tags);
        _batchDuration.Record(duration.TotalSeconds, tags);
    }

    public void RecordDeadLettered(string consumer, string topic, string reason)
        => _deadLettered.Add(1, new TagList { { Consumer, consumer }, { Topic, topic }, { Reason, reason } });

    /// <summary>
    /// The consumer span of one partition's batch (<see cref="ConsumerSpan"/>): a single record's continues its producer's
    /// <c>traceparent</c>, a batch's links to each producer. Null when nobody records it.
    /// </summary>
    public static Activity? StartProcess(string consumer, TopicPartition partition, IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> records, string? singleMessageId)
    {
        if (!ConsumerSpan.Enabled)
        {
            return null;
        }

        var producers = new List<ActivityContext>(records.Count);
        foreach (var record in records)
        {
            if (record.Message.Headers is { } headers && headers.TryGetLastBytes("traceparent", out var parent) &&
                ConsumerSpan.Parse(Encoding.UTF8.GetString(parent), headers.TryGetLastBytes("tracestate", out var state) ? Encoding.UTF8.GetString(state) : null) is { } producer)
            {
                producers.Add(producer);
            }
        }

        return ConsumerSpan.Start("kafka", partition.Topic, consumer, records.Count == 1 ? singleMessageId ?? "" : null, records.Count, producers);
    }

    /// <summary>Observes one consumer's paused partitions until <see cref="Forget"/>.</summary>
    public void ObservePaused(string consumer, Func<int> paused) => _paused[consumer] = paused;

    public void Forget(string consumer)
    {
        _paused.TryRemove(consumer, out _);
        foreach (var key in _lag.Keys.Where(k => k.Consumer == consumer))
        {
            _lag.TryRemove(key, out _);
        }
    }

    /// <summary>
    /// Reads each assigned partition's lag from a librdkafka statistics document (its STATISTICS.md: topics → partitions):
    /// <c>consumer_lag_stored</c>, the records past the last offset stored after a database commit, which is what is
    /// still to be processed; <c>consumer_lag</c> (behind the last Kafka commit) while nothing is stored yet; -1 is unknown.
    /// </summary>
    public void RecordStatistics(string consumer, string json)
    {
        using var document = JsonDocument.Parse(json);
        if (!document.RootElement.TryGetProperty("topics", out var topics))
        {
            return;
        }

        foreach (var topic in topics.EnumerateObject())
        {
            if (!topic.Value.TryGetProperty("partitions", out var partitions))
            {
                continue;
            }

            foreach (var partition in partitions.EnumerateObject())
            {
                if (int.TryParse(partition.Name, System.Globalization.CultureInfo.InvariantCulture, out var id) && id >= 0 &&
                    Lag(partition.Value) is { } value)
                {
                    if (value >= 0)
                    {
                        _lag[(consumer, topic.Name, id)] = value;
                    }
                    else
                    {
                        _lag.TryRemove((consumer, topic.Name, id), out _);
                    }
                }
            }
        }
    }

    private static long? Lag(JsonElement partition)
    {
        foreach (var name in (ReadOnlySpan<string>)["consumer_lag_stored", "consumer_lag"])
        {
            if (partition.TryGetProperty(name, out var lag) && lag.TryGetInt64(out var value) && value >= 0)
            {
                return value;
            }
        }

        return partition.TryGetProperty("consumer_lag", out _) ? -1 : null;
    }

    private IEnumerable<Measurement<int>> ObservePaused()
    {
        foreach (var (consumer, paused) in _paused)
        {
            yield return new Measurement<int>(paused(), new KeyValuePair<string, object?>(Consumer, consumer));
        }
    }

    private IEnumerable<Measurement<long>> ObserveLag()
    {
        foreach (var ((consumer, topic, partition), lag) in _lag)
        {
            yield return new Measurement<long>(lag, new TagList { { Consumer, consumer }, { Topic, topic }, { Partition, partition } });
        }
    }
}
