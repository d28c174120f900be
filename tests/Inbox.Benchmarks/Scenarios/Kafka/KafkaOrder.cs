using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Inbox.Kafka;

namespace Inbox.Benchmarks.Scenarios.Kafka;

/// <summary>The message on the topic: JSON, with its unique ID in a <c>MessageId</c> header.</summary>
public sealed record KafkaOrder(long OrderId, decimal Amount)
{
    public const string IdHeader = "MessageId";

    /// <summary>What the raw consumer does per record that the wrapper also does: read the ID header, deserialize the value.</summary>
    public static Order ToOrder(ConsumeResult<byte[]?, byte[]?> record)
    {
        var id = record.Message.Headers.TryGetLastBytes(IdHeader, out var bytes) ? Encoding.UTF8.GetString(bytes) : "";
        var message = JsonSerializer.Deserialize<KafkaOrder>(record.Message.Value, JsonSerializerOptions.Web)!;
        return new Order { MessageId = id, Amount = message.Amount };
    }
}

/// <summary>Fills a topic with orders for the Kafka scenarios (not measured): unique IDs, spread over the partitions.</summary>
public static class OrderTopic
{
    /// <param name="withIds">Whether each record carries its ID in a header; without, consumers know it by its offset.</param>
    public static void Produce(Inbox.TestSupport.KafkaBroker broker, string topic, int messages, int partitions, bool withIds = true)
    {
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        var config = broker.ProducerConfig();
        config.Acks = Acks.Leader;
        config.LingerMs = 20;
        config.BatchNumMessages = 10_000;
        config.QueueBufferingMaxMessages = Math.Max(100_000, messages + 1);
        using var producer = new ProducerBuilder<Null, byte[]>(config).Build();
        var prefix = Guid.NewGuid().ToString("N")[..8];
        for (var i = 0; i < messages; i++)
        {
            producer.Produce(new TopicPartition(topic, i % partitions), new Message<Null, byte[]>
            {
                Value = JsonSerializer.SerializeToUtf8Bytes(new KafkaOrder(i, 10), JsonSerializerOptions.Web),
                Headers = withIds ? [new Header(KafkaOrder.IdHeader, Encoding.UTF8.GetBytes($"{prefix}-{i:D7}"))] : [],
            });
        }

        if (producer.Flush(TimeSpan.FromMinutes(2)) != 0)
        {
            throw new InvalidOperationException($"Producing {messages} messages to {topic} did not finish in 2 minutes.");
        }

        Console.WriteLine($"   produced {messages:N0} messages to {topic} in {stopwatch.Elapsed.TotalSeconds:0.0} s (not measured)");
    }
}

/// <summary>The inbox wrapper's handler: the same business row as the raw consumer writes; the inbox saves and commits.</summary>
public sealed class KafkaOrderHandler(BenchDbContext db) : IInboxHandler<KafkaOrder>
{
    public Task HandleAsync(KafkaOrder message, InboxMessageContext context, CancellationToken cancellationToken)
    {
        db.Orders.Add(new Order { MessageId = context.MessageId, Amount = message.Amount });
        return Task.CompletedTask;
    }
}
