using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Inbox.Kafka.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Inbox.Kafka.Tests;

/// <summary>Poison and bad input go to the dead-letter topic with their story in headers; the partition moves on.</summary>
public sealed class InboxKafkaDeadLetterTests(ITestOutputHelper output) : KafkaTestBase(output)
{
    [Fact]
    public async Task DeadLetter_PoisonUndeserializableAndMissingId_LandInDltWithHeadersRestProcessed()
    {
        await using var broker = await StartBrokerAsync(1);
        await broker.CreateTopicAsync(Topic + ".dlt", 1);
        var sent = Stream(100, 0);
        var poisonId = "poison-1";
        using (var producer = broker.CreateProducer())
        {
            await producer.ProduceAsync(Topic, Record("k", JsonSerializer.Serialize(new OrderPlaced("k", 0, Poison: true), JsonSerializerOptions.Web), poisonId));
            await producer.ProduceAsync(Topic, Record("k", "{ this is not json", "garbage-1"));
            await producer.ProduceAsync(Topic, Record("k", JsonSerializer.Serialize(new OrderPlaced("k", 1), JsonSerializerOptions.Web), id: null));
        }

        await ProduceAsync(broker, Topic, sent);
        await using var consumer = await StartConsumerAsync(broker, "c1", o =>
        {
            o.HandlerRetries = 1;
            o.UseOffsetAsFallbackId = false;
            o.Consumer.AutoCommitIntervalMs = 200;
        });

        var deadLetters = broker.ReadAll(Topic + ".dlt", 3, TimeSpan.FromSeconds(30));
        Assert.Equal(3, deadLetters.Count);
        await WaitForEffectsAsync(sent.Count, TimeSpan.FromSeconds(30), "the healthy messages");
        await WaitForCommittedToEndAsync(broker, 1); // past the dead-lettered records
        await consumer.StopAsync();
        await AssertExactlyOnceInOrderAsync(sent);

        var byOffset = deadLetters.ToDictionary(d => long.Parse(Header(d, InboxKafkaDeadLetterHeaders.OriginalOffset)!, System.Globalization.CultureInfo.InvariantCulture));
        AssertDeadLetter(byOffset[0], InboxKafkaDeadLetterHeaders.ReasonHandlerFailed, typeof(InvalidOperationException), poisonId);
        AssertDeadLetter(byOffset[1], InboxKafkaDeadLetterHeaders.ReasonDeserializationFailed, typeof(JsonException), null);
        AssertDeadLetter(byOffset[2], InboxKafkaDeadLetterHeaders.ReasonMissingMessageId, typeof(InvalidInboxInputException), null);
        Assert.Equal("{ this is not json", byOffset[1].Message.Value);
        Assert.Equal("garbage-1", Header(byOffset[1], "MessageId"));
        // The poison message ran in its batch, on its own when the batch failed, and once more (HandlerRetries = 1).
        Assert.Equal(3, consumer.Probe.Calls - sent.Count);
    }

    [Theory]
    [InlineData(ConflictPolicy.Reject)]
    [InlineData(ConflictPolicy.Skip)]
    public async Task Fingerprints_SameIdOtherContent_DeadLetteredAsAConflictByDefault_SkippedUnderSkip(ConflictPolicy policy)
    {
        await using var broker = await StartBrokerAsync(1);
        await broker.CreateTopicAsync(Topic + ".dlt", 1);
        using (var producer = broker.CreateProducer())
        {
            await producer.ProduceAsync(Topic, Record("k", JsonSerializer.Serialize(new OrderPlaced("k", 0), JsonSerializerOptions.Web), "order-1"));
            await producer.ProduceAsync(Topic, Record("k", JsonSerializer.Serialize(new OrderPlaced("k", 0), JsonSerializerOptions.Web), "order-1"));
            await producer.ProduceAsync(Topic, Record("k", JsonSerializer.Serialize(new OrderPlaced("k", 99), JsonSerializerOptions.Web), "order-1"));
            await producer.ProduceAsync(Topic, Record("k", JsonSerializer.Serialize(new OrderPlaced("k", 1), JsonSerializerOptions.Web), "order-2"));
        }

        await using var consumer = await StartConsumerAsync(
            broker,
            "c1",
            o =>
            {
                o.ComputeFingerprints = true;
                o.Consumer.AutoCommitIntervalMs = 200;
            },
            services: s => s.Configure<InboxOptions>(o => o.ConflictPolicy = policy));

        await WaitForEffectsAsync(2, TimeSpan.FromSeconds(30), "order-1 and order-2");
        await WaitForCommittedToEndAsync(broker, 1);
        await consumer.StopAsync();
        var deadLetters = broker.ReadAll(Topic + ".dlt", 1, TimeSpan.FromSeconds(policy == ConflictPolicy.Reject ? 30 : 3));
        if (policy == ConflictPolicy.Reject)
        {
            var conflict = Assert.Single(deadLetters);
            Assert.Equal(InboxKafkaDeadLetterHeaders.ReasonConflict, Header(conflict, InboxKafkaDeadLetterHeaders.Reason));
            Assert.Equal("2", Header(conflict, InboxKafkaDeadLetterHeaders.OriginalOffset));
            Assert.Equal(typeof(InboxConflictException).FullName, Header(conflict, InboxKafkaDeadLetterHeaders.ExceptionType));
        }
        else
        {
            Assert.Empty(deadLetters);
        }

        Assert.Equal(2, await CountEffectsAsync());
    }

    private void AssertDeadLetter(ConsumeResult<string, string> record, string reason, Type exceptionType, string? messageId)
    {
        Output.WriteLine($"DLT @{record.Offset}: " + string.Join(", ", record.Message.Headers.Select(h => $"{h.Key}={Encoding.UTF8.GetString(h.GetValueBytes())}")));
        Assert.Equal(reason, Header(record, InboxKafkaDeadLetterHeaders.Reason));
        Assert.StartsWith(exceptionType.FullName!, Header(record, InboxKafkaDeadLetterHeaders.ExceptionType), StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(Header(record, InboxKafkaDeadLetterHeaders.ExceptionMessage)));
        Assert.Equal(Topic, Header(record, InboxKafkaDeadLetterHeaders.OriginalTopic));
        Assert.Equal("0", Header(record, InboxKafkaDeadLetterHeaders.OriginalPartition));
        Assert.Equal(Group, Header(record, InboxKafkaDeadLetterHeaders.Consumer));
        Assert.Equal(messageId, Header(record, InboxKafkaDeadLetterHeaders.MessageId));
        Assert.Equal("k", record.Message.Key);
    }

    private static string? Header(ConsumeResult<string, string> record, string key) =>
        record.Message.Headers.TryGetLastBytes(key, out var bytes) ? Encoding.UTF8.GetString(bytes) : null;

    private static Message<string, string> Record(string key, string value, string? id) => new()
    {
        Key = key,
        Value = value,
        Headers = id is null ? [] : [new Header("MessageId", Encoding.UTF8.GetBytes(id))],
    };
}
