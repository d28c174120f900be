using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Inbox.Kafka.Tests.Infrastructure;

namespace Inbox.Kafka.Tests;

/// <summary>
/// The consumer's span continues the producer's trace: a single record's span is the child of the span its
/// <c>traceparent</c> header names; a batch's span links to each record's producer.
/// </summary>
public sealed class InboxKafkaTraceTests(ITestOutputHelper output) : KafkaTestBase(output)
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task ConsumerSpan_ContinuesEachRecordsTraceparent_AsItsParentOrAsALinkOfItsBatch(int records)
    {
        await using var broker = await StartBrokerAsync(1);
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == "Inbox",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                if (a.Kind == ActivityKind.Consumer && Equals(a.GetTagItem("messaging.destination.name"), Topic))
                {
                    spans.Enqueue(a);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        var producers = Enumerable.Range(0, records).Select(_ => (Trace: ActivityTraceId.CreateRandom(), Span: ActivitySpanId.CreateRandom())).ToList();
        using (var producer = broker.CreateProducer())
        {
            for (var i = 0; i < records; i++)
            {
                await producer.ProduceAsync(Topic, new Message<string, string>
                {
                    Key = "k",
                    Value = JsonSerializer.Serialize(new OrderPlaced("k", i), JsonSerializerOptions.Web),
                    Headers =
                    [
                        new Header("MessageId", Encoding.UTF8.GetBytes($"traced-{i}")),
                        new Header("traceparent", Encoding.UTF8.GetBytes($"00-{producers[i].Trace}-{producers[i].Span}-01")),
                    ],
                });
            }
        }

        await using (var consumer = await StartConsumerAsync(broker, "c1"))
        {
            await WaitForEffectsAsync(records, TimeSpan.FromSeconds(30), "every traced record");
            await consumer.StopAsync();
        }

        // However the records were batched, every producer is the parent of one span or a link of one.
        var continued = spans.SelectMany(s => s.Links.Any()
            ? s.Links.Select(l => $"{l.Context.TraceId}-{l.Context.SpanId}")
            : [$"{s.TraceId}-{s.ParentSpanId}"]).ToList();
        Assert.Equal(producers.Select(p => $"{p.Trace}-{p.Span}").Order(), continued.Order());
        Assert.All(spans, s => Assert.Equal($"process {Topic}", s.DisplayName));
        if (records == 1)
        {
            var span = Assert.Single(spans);
            Assert.Equal("traced-0", span.GetTagItem("messaging.message.id"));
        }
    }
}
