using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text;
using Inbox.RabbitMQ.Tests.Support;
using Inbox.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Inbox.RabbitMQ.Tests;

/// <summary>
/// What an operator sees: on the Inbox meter, deliveries, dead letters by reason, batches and the deliveries in flight;
/// in traces, the consumer span continuing the producer's <c>traceparent</c>, and the outbox carrying that trace on.
/// </summary>
public sealed class RabbitMqTelemetryTests
{
    [Fact]
    public async Task Metrics_DeliveriesDeadLettersBatchesAndInFlight_ReportWhatHappened()
    {
        await using var harness = await ConsumerHarness.CreateAsync();
        await harness.DeclareAsync();
        harness.Probe.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await harness.StartAsync(o => { o.BatchSize = 20; o.PrefetchCount = 40; });
        var meters = harness.Host!.Services.GetRequiredService<IMeterFactory>();
        using var deliveries = new MetricCollector<long>(meters, "Inbox", "inbox.rabbitmq.deliveries");
        using var deadLettered = new MetricCollector<long>(meters, "Inbox", "inbox.rabbitmq.dead_lettered");
        using var sizes = new MetricCollector<int>(meters, "Inbox", "inbox.rabbitmq.batch.size");
        using var durations = new MetricCollector<double>(meters, "Inbox", "inbox.rabbitmq.batch.duration");
        using var inFlight = new MetricCollector<int>(meters, "Inbox", "inbox.rabbitmq.in_flight");

        // Published once the collectors listen, so that they see every delivery.
        var unique = Enumerable.Range(0, 200).Select(i => ($"t-{i}", $"order-{i}")).ToList();
        await harness.PublishManyAsync(unique.Concat(unique.Take(20)));
        await harness.PublishAsync(null, "order-no-id");
        await harness.PublishRawAsync(Encoding.UTF8.GetBytes("{ not json"), p => p.MessageId = "bad-body");

        // The first batch waits on the gate with the prefetch full behind it: that many are in flight.
        await Eventually.WaitAsync(() => !harness.Probe.Runs.IsEmpty, "the first batch to be in its handler");
        await Eventually.WaitAsync(
            () =>
            {
                inFlight.RecordObservableInstruments();
                return inFlight.LastMeasurement?.Value == 40;
            },
            "the in-flight gauge to show the prefetch count");
        harness.Probe.Gate.SetResult();
        await Eventually.WaitAsync(
            async () => (await harness.InvoicesAsync()).Count == unique.Count && await harness.CountAsync(harness.Queue) == 0 && await harness.CountAsync(harness.DeadLetterQueue) == 2,
            "every unique ID, two dead letters and the queue drained");
        await harness.StopAsync();

        var sent = unique.Count + 20 + 2;
        Assert.Equal(sent, deliveries.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.All(deliveries.GetMeasurementSnapshot(), m => Assert.Equal(harness.Queue, m.Tags["messaging.destination.name"]));
        Assert.Equal(
            new[] { InboxRabbitMqDeadLetterHeaders.ReasonDeserializationFailed, InboxRabbitMqDeadLetterHeaders.ReasonMissingMessageId }.Order(),
            deadLettered.GetMeasurementSnapshot().Select(m => (string)m.Tags["inbox.dead_letter.reason"]!).Order());
        var batches = sizes.GetMeasurementSnapshot();
        Assert.Equal(sent, batches.Sum(m => m.Value));
        Assert.All(batches, m => Assert.InRange(m.Value, 1, 20));
        Assert.Contains(batches, m => m.Value > 1);
        Assert.Equal(batches.Count, durations.GetMeasurementSnapshot().Count);
        Assert.All(durations.GetMeasurementSnapshot(), m => Assert.True(m.Value > 0));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(10)]
    public async Task Trace_ContinuesTheProducersTraceparent_AndTheOutboxCarriesItToTheNextService(int batchSize)
    {
        await using var harness = await ConsumerHarness.CreateAsync();
        await harness.DeclareAsync();
        harness.Probe.InvoiceQueue = await harness.DeclareOtherQueueAsync("invoices");
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == "Inbox",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                if (a.Kind == ActivityKind.Consumer && Equals(a.GetTagItem("messaging.destination.name"), harness.Queue))
                {
                    spans.Enqueue(a);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        var producer = ActivityTraceId.CreateRandom();
        var producerSpan = ActivitySpanId.CreateRandom();
        await harness.PublishAsync("traced", "order-traced", p => p.Headers = new Dictionary<string, object?> { ["traceparent"] = $"00-{producer}-{producerSpan}-01" });

        await harness.StartAsync(o => { o.BatchSize = batchSize; o.PrefetchCount = 32; });
        await Eventually.WaitAsync(async () => await harness.CountAsync(harness.Probe.InvoiceQueue) == 1 && (await harness.OutboxAsync()).Pending == 0, "the invoice to leave through the outbox");
        await harness.StopAsync();

        var span = Assert.Single(spans);
        Assert.Equal($"process {harness.Queue}", span.DisplayName);
        if (batchSize == 1)
        {
            Assert.Equal(producer, span.TraceId);
            Assert.Equal(producerSpan, span.ParentSpanId);
        }
        else
        {
            // A batch is one span of its own, linked to each delivery's producer.
            var link = Assert.Single(span.Links);
            Assert.Equal((producer, producerSpan), (link.Context.TraceId, link.Context.SpanId));
        }

        // The handler's outbox write happened inside the span: the next service continues the same trace.
        var invoice = Assert.Single(await harness.DrainAsync(harness.Probe.InvoiceQueue));
        var traceParent = ConsumerHarness.Header(invoice.Properties, "traceparent");
        Assert.NotNull(traceParent);
        Assert.Equal(span.TraceId.ToString(), traceParent.Split('-')[1]);
    }
}
