using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Inbox.RabbitMQ.Consuming;
using Inbox.Telemetry;
using RabbitMQ.Client;

namespace Inbox.RabbitMQ.Telemetry;

/// <summary>
/// The RabbitMQ adapter's instruments, on the same <c>Inbox</c> meter as the core's (which counts outcomes: processed,
/// duplicate, conflict): deliveries received, dead letters by reason, batches (size and duration) and the deliveries in
/// flight; and its traces: a consumer span per delivery (per batch in batch mode) that continues the producer's
/// <c>traceparent</c>, so that the inbox's span and whatever the handler sends through the outbox join that trace.
/// </summary>
internal sealed class InboxRabbitMqTelemetry
{
    private const string Consumer = "messaging.consumer.group.name";
    private const string Queue = "messaging.destination.name";
    private const string Reason = "inbox.dead_letter.reason";
    private const string TraceParent = "traceparent";
    private const string TraceState = "tracestate";

    private static readonly string? Version = typeof(InboxRabbitMqTelemetry).Assembly.GetName().Version?.ToString();

    private readonly Counter<long> _deliveries;
    private readonly Counter<long> _deadLettered;
    private readonly Histogram<int> _batchSize;
    private readonly Histogram<double> _batchDuration;
    private readonly ConcurrentDictionary<(string Consumer, string Queue), Func<int>> _inFlight = new();

    public InboxRabbitMqTelemetry(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(InboxTelemetry.Name, Version);
        _deliveries = meter.CreateCounter<long>("inbox.rabbitmq.deliveries", "{message}", "Deliveries received from the queue, before deduplication.");
        _deadLettered = meter.CreateCounter<long>("inbox.rabbitmq.dead_lettered", "{message}", "Deliveries published to the dead-letter queue, by reason.");
        _batchSize = meter.CreateHistogram<int>("inbox.rabbitmq.batch.size", "{message}", "Deliveries in one batch (batch mode).");
        _batchDuration = meter.CreateHistogram<double>("inbox.rabbitmq.batch.duration", "s", "Time to settle one batch: inbox transaction, retries, dead letters and the acknowledgement (batch mode).");
        meter.CreateObservableGauge("inbox.rabbitmq.in_flight", ObserveInFlight, "{message}", "Deliveries received and not yet settled (acknowledged or left for redelivery).");
    }

    public void RecordDelivery(string consumer, string queue) => _deliveries.Add(1, new TagList { { Consumer, consumer }, { Queue, queue } });

    public void RecordDeadLettered(string consumer, string queue, string reason)
        => _deadLettered.Add(1, new TagList { { Consumer, consumer }, { Queue, queue }, { Reason, reason } });

    public void RecordBatch(string consumer, string queue, int size, TimeSpan duration)
    {
        var tags = new TagList { { Consumer, consumer }, { Queue, queue } };
        _batchSize.Record(size, tags);
        _batchDuration.Record(duration.TotalSeconds, tags);
    }

    /// <summary>Observes one consumer's deliveries in flight until <see cref="Forget"/>.</summary>
    public void ObserveInFlight(string consumer, string queue, Func<int> count) => _inFlight[(consumer, queue)] = count;

    public void Forget(string consumer, string queue) => _inFlight.TryRemove((consumer, queue), out _);

    /// <summary>The consumer span of one delivery (<see cref="ConsumerSpan"/>); null when nobody records it.</summary>
    public static Activity? StartProcess(string consumer, string queue, string? messageId, IReadOnlyBasicProperties properties)
        => ConsumerSpan.Enabled
            ? ConsumerSpan.Start("rabbitmq", queue, consumer, messageId ?? "", 1, ProducerOf(properties) is { } producer ? [producer] : [])
            : null;

    /// <summary>The consumer span of one batch, linked to each delivery's producer; null when nobody records it.</summary>
    public static Activity? StartBatch<TMessage>(string consumer, string queue, IReadOnlyList<RabbitMqDelivery<TMessage>> deliveries)
    {
        if (!ConsumerSpan.Enabled)
        {
            return null;
        }

        var producers = new List<ActivityContext>(deliveries.Count);
        foreach (var delivery in deliveries)
        {
            if (ProducerOf(delivery.Args.BasicProperties) is { } producer)
            {
                producers.Add(producer);
            }
        }

        return ConsumerSpan.Start("rabbitmq", queue, consumer, messageId: null, deliveries.Count, producers);
    }

    /// <summary>The W3C trace context in the delivery's headers (AMQP long strings arrive as bytes), if any.</summary>
    private static ActivityContext? ProducerOf(IReadOnlyBasicProperties properties)
        => properties.Headers is { } headers && headers.TryGetValue(TraceParent, out var value)
            ? ConsumerSpan.Parse(HeaderText.Of(value), headers.TryGetValue(TraceState, out var state) ? HeaderText.Of(state) : null)
            : null;

    private IEnumerable<Measurement<int>> ObserveInFlight()
    {
        foreach (var ((consumer, queue), count) in _inFlight)
        {
            yield return new Measurement<int>(count(), new TagList { { Consumer, consumer }, { Queue, queue } });
        }
    }
}
