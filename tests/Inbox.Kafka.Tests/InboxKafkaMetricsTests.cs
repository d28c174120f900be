using System.Diagnostics.Metrics;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Inbox.Kafka.Tests.Infrastructure;
using Inbox.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Inbox.Kafka.Tests;

/// <summary>What an operator sees on the Inbox meter: batches, dead letters by reason, paused partitions, consumer lag.</summary>
public sealed class InboxKafkaMetricsTests(ITestOutputHelper output) : KafkaTestBase(output)
{
    [Fact]
    public async Task Metrics_BatchesDeadLettersAndLag_ReportWhatHappened()
    {
        await using var broker = await StartBrokerAsync(2);
        await broker.CreateTopicAsync(Topic + ".dlt", 1);
        await using var consumer = await StartConsumerAsync(broker, "c1", o =>
        {
            o.HandlerRetries = 0;
            o.BatchSize = 50;
            o.Consumer.StatisticsIntervalMs = 100;
        });
        var meters = consumer.Services.GetRequiredService<IMeterFactory>();
        using var sizes = new MetricCollector<int>(meters, "Inbox", "inbox.kafka.batch.size");
        using var durations = new MetricCollector<double>(meters, "Inbox", "inbox.kafka.batch.duration");
        using var deadLettered = new MetricCollector<long>(meters, "Inbox", "inbox.kafka.dead_lettered");
        using var lag = new MetricCollector<long>(meters, "Inbox", "inbox.kafka.consumer.lag");
        using var paused = new MetricCollector<int>(meters, "Inbox", "inbox.kafka.partitions.paused");
        consumer.Probe.Delay = TimeSpan.FromMilliseconds(2);

        var sent = Stream(1_000, 0);
        await ProduceAsync(broker, Topic, sent);
        using (var producer = broker.CreateProducer())
        {
            await producer.ProduceAsync(Topic, new Message<string, string> { Key = "k", Value = "{ not json", Headers = [new Header("MessageId", Encoding.UTF8.GetBytes("garbage"))] });
            await producer.ProduceAsync(Topic, new Message<string, string>
            {
                Key = "k",
                Value = JsonSerializer.Serialize(new OrderPlaced("k", 0, Poison: true), JsonSerializerOptions.Web),
                Headers = [new Header("MessageId", Encoding.UTF8.GetBytes("poison"))],
            });
        }

        // A backlog while the handler works through it, then none once it has caught up.
        long maxLag = 0;
        await Eventually.Until(
            async () =>
            {
                lag.RecordObservableInstruments();
                maxLag = Math.Max(maxLag, lag.GetMeasurementSnapshot().Select(m => m.Value).DefaultIfEmpty().Max());
                return await CountEffectsAsync() == sent.Count;
            },
            TimeSpan.FromSeconds(60),
            async () => $"{await CountEffectsAsync()} effects",
            "every healthy record");
        await Eventually.Until(
            () =>
            {
                lag.GetMeasurementSnapshot(clear: true);
                lag.RecordObservableInstruments();
                var last = lag.GetMeasurementSnapshot();
                return Task.FromResult(last.Count == 2 && last.All(m => m.Value == 0));
            },
            TimeSpan.FromSeconds(30),
            () => Task.FromResult(string.Join(", ", lag.GetMeasurementSnapshot().Select(m => $"{m.Tags["messaging.destination.partition.id"]}={m.Value}"))),
            "the lag of both partitions to reach 0");

        Output.WriteLine($"Largest lag seen: {maxLag}; batches: {sizes.GetMeasurementSnapshot().Count}.");
        Assert.True(maxLag > 0, "the lag gauge never showed the backlog");
        Assert.Equal(1_002, sizes.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal(sizes.GetMeasurementSnapshot().Count, durations.GetMeasurementSnapshot().Count);
        Assert.All(sizes.GetMeasurementSnapshot(), m => Assert.Equal(Group, m.Tags["messaging.consumer.group.name"]));
        await Eventually.Until(() => Task.FromResult(deadLettered.GetMeasurementSnapshot().Count == 2), TimeSpan.FromSeconds(30), () => Task.FromResult($"{deadLettered.GetMeasurementSnapshot().Count}"), "both dead letters");
        Assert.Equal(
            [InboxKafkaDeadLetterHeaders.ReasonDeserializationFailed, InboxKafkaDeadLetterHeaders.ReasonHandlerFailed],
            deadLettered.GetMeasurementSnapshot().Select(m => (string)m.Tags["inbox.dead_letter.reason"]!).Order());
        paused.RecordObservableInstruments();
        Assert.Equal(0, paused.LastMeasurement!.Value);
    }
}
