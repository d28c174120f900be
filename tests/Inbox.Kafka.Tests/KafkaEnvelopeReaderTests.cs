using System.Text;
using Confluent.Kafka;
using Inbox.Kafka.Consuming;
using Inbox.Kafka.DependencyInjection;
using Inbox.Kafka.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Inbox.Kafka.Tests;

public sealed class KafkaEnvelopeReaderTests
{
    [Fact]
    public void Read_SeveralIdHeaders_FirstConfiguredNameWinsCaseInsensitively()
    {
        var envelope = CreateSut().Read(Record("{\"key\":\"k\",\"sequence\":1}", ("X-MESSAGE-ID", "x"), ("messageid", "mt"), ("CE_ID", "ce")));

        Assert.Null(envelope.DeadLetterReason);
        Assert.Equal("ce", envelope.Description.MessageId);
        Assert.Equal("ce", envelope.Context!.MessageId);
        Assert.Equal(new OrderPlaced("k", 1), envelope.Message);
    }

    [Fact]
    public void Read_NoHeaderButSelector_UsesSelector()
    {
        var envelope = CreateSut(o => o.MessageIdSelector = m => $"{m.Key}:{m.Sequence}").Read(Record("{\"key\":\"k\",\"sequence\":7}"));

        Assert.Equal("k:7", envelope.Description.MessageId);
    }

    [Fact]
    public void Read_NoIdAnywhere_FallsBackToTopicPartitionOffset()
    {
        var envelope = CreateSut().Read(Record("{\"key\":\"k\",\"sequence\":1}"));

        Assert.Equal("orders/3/42", envelope.Description.MessageId);
    }

    [Fact]
    public void Read_NoIdAndFallbackOff_MarkedMissingId()
    {
        var envelope = CreateSut(o => o.UseOffsetAsFallbackId = false).Read(Record("{\"key\":\"k\",\"sequence\":1}"));

        Assert.Equal(InboxKafkaDeadLetterHeaders.ReasonMissingMessageId, envelope.DeadLetterReason);
        Assert.IsType<InvalidInboxInputException>(envelope.Error);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("null")]
    [InlineData(null)]
    public void Read_UndeserializableValue_MarkedDeserializationFailed(string? value)
    {
        var envelope = CreateSut().Read(Record(value, ("MessageId", "m")));

        Assert.Equal(InboxKafkaDeadLetterHeaders.ReasonDeserializationFailed, envelope.DeadLetterReason);
    }

    [Fact]
    public void Validate_EverythingWrong_OneResultListsEveryFailure()
    {
        var options = new InboxKafkaConsumerOptions<OrderPlaced> { BatchSize = 0, HandlerRetries = -1, RevocationTimeout = TimeSpan.Zero };
        options.Consumer.EnableAutoOffsetStore = true;

        var result = new InboxKafkaConsumerOptionsValidator<OrderPlaced>().Validate(null, options);

        Assert.True(result.Failed);
        foreach (var name in new[] { "Topics", "BootstrapServers", "GroupId", "EnableAutoOffsetStore", "BatchSize", "HandlerRetries", "RevocationTimeout" })
        {
            Assert.Contains(name, result.FailureMessage, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void AddInboxKafkaConsumer_NullArguments_ThrowWithParameterNames()
    {
        Assert.Equal("services", Assert.Throws<ArgumentNullException>(() =>
            InboxKafkaServiceCollectionExtensions.AddInboxKafkaConsumer<TestDbContext, OrderPlaced, OrderPlacedHandler>(null!, _ => { })).ParamName);
        Assert.Equal("configure", Assert.Throws<ArgumentNullException>(() =>
            new ServiceCollection().AddInboxKafkaConsumer<TestDbContext, OrderPlaced, OrderPlacedHandler>(null!)).ParamName);
    }

    private static KafkaEnvelopeReader<OrderPlaced> CreateSut(Action<InboxKafkaConsumerOptions<OrderPlaced>>? configure = null)
    {
        var options = new InboxKafkaConsumerOptions<OrderPlaced>();
        configure?.Invoke(options);
        return new KafkaEnvelopeReader<OrderPlaced>(options, "billing");
    }

    private static ConsumeResult<byte[]?, byte[]?> Record(string? value, params (string Key, string Value)[] headers)
    {
        var list = new Headers();
        foreach (var (key, headerValue) in headers)
        {
            list.Add(key, Encoding.UTF8.GetBytes(headerValue));
        }

        return new ConsumeResult<byte[]?, byte[]?>
        {
            TopicPartitionOffset = new TopicPartitionOffset("orders", 3, 42),
            Message = new Message<byte[]?, byte[]?> { Key = null, Value = value is null ? null : Encoding.UTF8.GetBytes(value), Headers = list, Timestamp = Timestamp.Default },
        };
    }
}
