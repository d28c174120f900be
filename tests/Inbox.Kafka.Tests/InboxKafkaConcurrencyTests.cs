using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Inbox.Kafka.Tests.Infrastructure;

namespace Inbox.Kafka.Tests;

/// <summary>MaxConcurrentBatches bounds the database work, not the waiting: a partition in back-off holds no slot.</summary>
public sealed class InboxKafkaConcurrencyTests(ITestOutputHelper output) : KafkaTestBase(output)
{
    [Fact]
    public async Task OneSlot_PartitionInHandlerBackOff_DoesNotStarveTheOtherPartition()
    {
        await using var broker = await StartBrokerAsync(2);
        await broker.CreateTopicAsync(Topic + ".dlt", 1);
        var healthy = Stream(30, 0);
        using (var producer = broker.CreateProducer())
        {
            await producer.ProduceAsync(new TopicPartition(Topic, 0), Record(new OrderPlaced("p0", 0, Poison: true), "poison-1"));
            foreach (var (key, message, id) in healthy)
            {
                await producer.ProduceAsync(new TopicPartition(Topic, 1), Record(message, id));
            }
        }

        // The poison backs off 2 s, then 4 s, before it is dead-lettered: 6 s in which partition 1 must not wait.
        await using var consumer = await StartConsumerAsync(broker, "c1", o =>
        {
            o.MaxConcurrentBatches = 1;
            o.BatchSize = 5;
            o.HandlerRetries = 2;
            o.RetryDelay = TimeSpan.FromSeconds(2);
        });
        var took = await WaitForEffectsAsync(healthy.Count, TimeSpan.FromSeconds(30), "partition 1's records");

        const int deadLettering = 112;
        Output.WriteLine($"Partition 1 done in {took.TotalSeconds:0.0}s; poison dead-lettered yet: {consumer.Logs.Count(deadLettering) > 0}.");
        Assert.Equal(0, consumer.Logs.Count(deadLettering));
        Assert.Single(broker.ReadAll(Topic + ".dlt", 1, TimeSpan.FromSeconds(30)));
        await consumer.StopAsync();
        await AssertExactlyOnceInOrderAsync(healthy);
    }

    private static Message<string, string> Record(OrderPlaced message, string id) => new()
    {
        Key = message.Key,
        Value = JsonSerializer.Serialize(message, JsonSerializerOptions.Web),
        Headers = [new Header("MessageId", Encoding.UTF8.GetBytes(id))],
    };
}
