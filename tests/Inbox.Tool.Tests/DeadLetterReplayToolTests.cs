using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Inbox.Kafka;
using Inbox.RabbitMQ;
using Inbox.TestSupport;
using Inbox.Tool.Tests.Support;
using RabbitMQ.Client;

namespace Inbox.Tool.Tests;

/// <summary>
/// <c>dotnet inbox dead-letters replay</c> on the real RabbitMQ and on librdkafka's mock cluster (which the tool's process
/// reaches over TCP): a dry run counts and moves nothing, a replay sends each dead letter back with its message ID.
/// </summary>
public sealed class DeadLetterReplayToolTests(ITestOutputHelper output)
{
    [Fact]
    public async Task RabbitMq_DryRunCountsAndMovesNothing_ThenTheReplayMovesEachBackWithItsMessageId()
    {
        var broker = await Servers.RabbitMqAsync();
        var queue = $"tool-orders-{Guid.NewGuid():N}";
        var deadLetters = queue + ".dead-letter";
        await using var connection = await new ConnectionFactory { Uri = broker }.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);
        await channel.QueueDeclareAsync(deadLetters, durable: true, exclusive: false, autoDelete: false);
        for (var i = 0; i < 3; i++)
        {
            var headers = new Dictionary<string, object?> { [InboxRabbitMqDeadLetterHeaders.OriginalQueue] = queue, [InboxRabbitMqDeadLetterHeaders.Reason] = "handler-failed" };
            await channel.BasicPublishAsync("", deadLetters, mandatory: true, new BasicProperties { MessageId = $"m-{i}", Headers = headers, Persistent = true }, Encoding.UTF8.GetBytes($"{{\"orderId\":\"o-{i}\"}}"));
        }

        try
        {
            var dryRun = await RunAsync(["dead-letters", "replay", "--rabbitmq", broker.ToString(), "--queue", deadLetters, "--dry-run", "--json"]);
            var declined = await RunAsync(["dead-letters", "replay", "--rabbitmq", broker.ToString(), "--queue", deadLetters], "n\n");
            Assert.Equal((0, 3L, 0L), (dryRun.ExitCode, Json(dryRun).GetProperty("matched").GetInt64(), Json(dryRun).GetProperty("replayed").GetInt64()));
            Assert.Equal(4, declined.ExitCode);
            Assert.Equal((3u, 0u), ((await channel.QueueDeclarePassiveAsync(deadLetters)).MessageCount, (await channel.QueueDeclarePassiveAsync(queue)).MessageCount));

            var replay = await RunAsync(["dead-letters", "replay", "--rabbitmq", broker.ToString(), "--queue", deadLetters, "--yes", "--json"]);

            Assert.Equal((0, 3L, true), (replay.ExitCode, Json(replay).GetProperty("replayed").GetInt64(), Json(replay).GetProperty("complete").GetBoolean()));
            Assert.Equal(0u, (await channel.QueueDeclarePassiveAsync(deadLetters)).MessageCount);
            var ids = new List<string>();
            while (await channel.BasicGetAsync(queue, autoAck: true) is { } message)
            {
                ids.Add(message.BasicProperties.MessageId!);
                Assert.False(message.BasicProperties.Headers?.ContainsKey(InboxRabbitMqDeadLetterHeaders.Reason) ?? false, "the dead letter's own headers are dropped");
            }

            Assert.Equal(["m-0", "m-1", "m-2"], ids);
        }
        finally
        {
            await channel.QueueDeleteAsync(queue);
            await channel.QueueDeleteAsync(deadLetters);
        }
    }

    [Fact]
    public async Task MassTransitErrorQueue_EachGoesBackToTheQueueItsFaultNames_WithoutTheFaultHeaders()
    {
        var broker = await Servers.RabbitMqAsync();
        var queue = $"tool-shipping-{Guid.NewGuid():N}";
        var errors = queue + "_error";
        await using var connection = await new ConnectionFactory { Uri = broker }.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);
        await channel.QueueDeclareAsync(errors, durable: true, exclusive: false, autoDelete: false);

        // As MassTransit moves a faulted message: its body and message ID, with the fault's headers.
        var headers = new Dictionary<string, object?>
        {
            ["MT-Reason"] = "fault",
            ["MT-Fault-InputAddress"] = $"rabbitmq://localhost/{queue}",
            ["MT-Fault-ExceptionType"] = "System.InvalidOperationException",
        };
        await channel.BasicPublishAsync("", errors, mandatory: true, new BasicProperties { MessageId = "mt-1", Headers = headers, ContentType = "application/vnd.masstransit+json" }, "{}"u8.ToArray());

        try
        {
            var replay = await RunAsync(["dead-letters", "replay", "--rabbitmq", broker.ToString(), "--queue", errors, "--yes", "--json"]);

            Assert.Equal((0, 1L), (replay.ExitCode, Json(replay).GetProperty("replayed").GetInt64()));
            var message = await channel.BasicGetAsync(queue, autoAck: true);
            Assert.NotNull(message);
            Assert.Equal("mt-1", message.BasicProperties.MessageId);
            Assert.DoesNotContain(message.BasicProperties.Headers ?? new Dictionary<string, object?>(), h => h.Key.StartsWith("MT-", StringComparison.Ordinal));
        }
        finally
        {
            await channel.QueueDeleteAsync(queue);
            await channel.QueueDeleteAsync(errors);
        }
    }

    [Fact]
    public async Task Kafka_ReplaysEachDeadLetterToItsTopic_WithItsMessageIdAsAHeader_AndResumesWithNothing()
    {
        using var cluster = new KafkaMockCluster();
        cluster.CreateTopic("orders", 1);
        cluster.CreateTopic("orders.dlt", 1);
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build())
        {
            for (var i = 0; i < 2; i++)
            {
                await producer.ProduceAsync("orders.dlt", new Message<string, string>
                {
                    Key = $"k-{i}",
                    Value = $"{{\"orderId\":\"o-{i}\"}}",
                    Headers =
                    [
                        new Header(InboxKafkaDeadLetterHeaders.OriginalTopic, Encoding.UTF8.GetBytes("orders")),
                        new Header(InboxKafkaDeadLetterHeaders.MessageId, Encoding.UTF8.GetBytes($"orders/0/{i}")),
                    ],
                });
            }
        }

        var replay = await RunAsync(["dead-letters", "replay", "--kafka", cluster.BootstrapServers, "--topic", "orders.dlt", "--group", "ops", "--yes", "--json"]);
        var again = await RunAsync(["dead-letters", "replay", "--kafka", cluster.BootstrapServers, "--topic", "orders.dlt", "--group", "ops", "--yes", "--json"]);
        var bad = await RunAsync(["dead-letters", "replay", "--kafka", cluster.BootstrapServers, "--yes"]);
        var mixed = await RunAsync(["dead-letters", "replay", "--rabbitmq", "amqp://localhost/", "--queue", "orders.dead-letter", "--from", "2026-01-01", "--yes"]);

        Assert.Equal((0, 2L), (replay.ExitCode, Json(replay).GetProperty("replayed").GetInt64()));
        Assert.Equal((3, 0L), (again.ExitCode, Json(again).GetProperty("read").GetInt64()));
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--kafka needs --topic", bad.Error + bad.Output, StringComparison.Ordinal);
        Assert.Equal(2, mixed.ExitCode);
        Assert.Contains("--topic, --from and --group are Kafka's", mixed.Error + mixed.Output, StringComparison.Ordinal);
        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig { BootstrapServers = cluster.BootstrapServers, GroupId = "check", AutoOffsetReset = AutoOffsetReset.Earliest }).Build();
        consumer.Assign(new TopicPartitionOffset("orders", 0, Offset.Beginning));
        var replayed = Enumerable.Range(0, 2).Select(_ => consumer.Consume(TimeSpan.FromSeconds(10))).ToList();
        Assert.Equal(["k-0", "k-1"], replayed.Select(r => r!.Message.Key));
        Assert.Equal(["orders/0/0", "orders/0/1"], replayed.Select(r => Encoding.UTF8.GetString(r!.Message.Headers.GetLastBytes("message-id"))));
        Assert.DoesNotContain(replayed[0]!.Message.Headers, h => h.Key.StartsWith("inbox-dlt-", StringComparison.Ordinal));
    }

    private static JsonElement Json(ToolRun run) => JsonDocument.Parse(run.Output).RootElement;

    private async Task<ToolRun> RunAsync(string[] args, string? input = null)
    {
        var run = await ToolProcess.RunAsync(input, args);
        output.WriteLine($"> dotnet inbox {string.Join(' ', args)}\n{run}");
        return run;
    }
}
