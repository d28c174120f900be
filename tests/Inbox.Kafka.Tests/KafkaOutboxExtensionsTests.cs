using Confluent.Kafka;
using Inbox.Kafka.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Inbox.Kafka.Tests;

public sealed class KafkaOutboxExtensionsTests
{
    [Theory]
    [InlineData("")]
    [InlineData("orders topic")]
    [InlineData("orders/eu")]
    [InlineData("..")]
    public void Produce_NotAKafkaTopicName_ThrowsBeforeAnythingIsTracked(string topic)
    {
        using var db = CreateDb();

        var error = Assert.Throws<InvalidOutboxMessageException>(() => db.Outbox().Produce(topic, "k", new OrderPlaced("k", 1)));

        Assert.Equal("topic", error.ParamName);
        Assert.Empty(db.ChangeTracker.Entries());
    }

    [Fact]
    public void Produce_TopicOf250Characters_IsRefused_249IsAccepted()
    {
        using var db = CreateDb();

        Assert.Throws<InvalidOutboxMessageException>(() => db.Outbox().Produce(new string('t', 250), null, new OrderPlaced("k", 1)));
        var id = db.Outbox().Produce(new string('t', 249), null, new OrderPlaced("k", 1), new Dictionary<string, string> { ["tenant"] = "eu" });

        Assert.True(Guid.TryParse(id, out _));
        Assert.Single(db.ChangeTracker.Entries());
    }

    [Fact]
    public void UseKafka_WithoutBootstrapServers_SaysWhatIsMissing()
    {
        var error = Assert.Throws<ArgumentException>(() => new OutboxOptions().UseKafka(new ProducerConfig()));

        Assert.Equal("config", error.ParamName);
        Assert.Contains("BootstrapServers", error.Message, StringComparison.Ordinal);
    }

    private static TestDbContext CreateDb() => new(new DbContextOptionsBuilder<TestDbContext>().UseSqlite("Data Source=:memory:").Options);
}
