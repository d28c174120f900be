using Confluent.Kafka;
using Inbox.Kafka.Consuming;
using Inbox.Kafka.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Inbox.Kafka.Tests;

/// <summary>A subscription configured from appsettings, the way Microsoft.Extensions users configure everything else.</summary>
public sealed class InboxKafkaConfigurationTests
{
    [Fact]
    public void AddInboxKafkaConsumer_FromASection_BindsOptionsAndConfluentsConfigurationByEitherName()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Billing:Topics:0"] = "orders",
            ["Billing:Topics:1"] = "refunds",
            ["Billing:BatchSize"] = "250",
            ["Billing:StoreOffsetsInDatabase"] = "true",
            ["Billing:RevocationTimeout"] = "00:00:10",
            ["Billing:MessageIdHeaders:0"] = "x-id",
            ["Billing:Consumer:BootstrapServers"] = "kafka-1:9092",
            ["Billing:Consumer:GroupId"] = "billing",
            ["Billing:Consumer:EnableAutoCommit"] = "false",
            ["Billing:Consumer:auto.offset.reset"] = "earliest",
            ["Billing:Producer:acks"] = "all",
            ["Billing:Producer:LingerMs"] = "5",
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging();

        services.AddInboxKafkaConsumer<TestDbContext, OrderPlaced, OrderPlacedHandler>(configuration.GetSection("Billing"), o => o.MessageIdSelector = m => m.Key);

        using var provider = services.BuildServiceProvider();
        var options = Subscription(provider).Options;
        Assert.Equal(["orders", "refunds"], options.Topics);
        Assert.Equal(250, options.BatchSize);
        Assert.True(options.StoreOffsetsInDatabase);
        Assert.Equal(TimeSpan.FromSeconds(10), options.RevocationTimeout);
        Assert.Equal(["x-id"], options.MessageIdHeaders);
        Assert.Equal("kafka-1:9092", options.Consumer.BootstrapServers);
        Assert.Equal("billing", options.Consumer.GroupId);
        Assert.False(options.Consumer.EnableAutoCommit);
        Assert.Equal(AutoOffsetReset.Earliest, options.Consumer.AutoOffsetReset);
        Assert.Equal(Acks.All, options.Producer!.Acks);
        Assert.Equal(5, options.Producer.LingerMs);
        Assert.Equal("k", options.MessageIdSelector!(new OrderPlaced("k", 1)));
    }

    /// <summary>The consumer key binds under its name, and under the name it had before (an older appsettings.json).</summary>
    [Theory]
    [InlineData("ConsumerKey")]
    [InlineData("ConsumerName")]
    public void AddInboxKafkaConsumer_ConsumerKeyFromConfiguration_BindsUnderItsNameAndItsFormerName(string name)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Billing:Topics:0"] = "orders",
            ["Billing:Consumer:BootstrapServers"] = "localhost:9092",
            ["Billing:Consumer:GroupId"] = "billing",
            [$"Billing:{name}"] = "billing-v2",
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging();

        services.AddInboxKafkaConsumer<TestDbContext, OrderPlaced, OrderPlacedHandler>(configuration.GetSection("Billing"));

        using var provider = services.BuildServiceProvider();
        Assert.Equal("billing-v2", Subscription(provider).Options.ConsumerKey);
    }

    [Fact]
    public async Task StartAsync_InvalidValuesFromConfiguration_FailWithOneErrorListingThem()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Billing:Topics:0"] = "orders",
            ["Billing:BatchSize"] = "0",
            ["Billing:Consumer:BootstrapServers"] = "localhost:9092",
        });
        builder.Services.AddDbContext<TestDbContext>(o => o.UseSqlite("Data Source=:memory:"));
        builder.Services.AddInbox<TestDbContext>();
        builder.Services.AddInboxKafkaConsumer<TestDbContext, OrderPlaced, OrderPlacedHandler>(builder.Configuration.GetSection("Billing"));
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("BatchSize must be between 1 and 10,000; it is 0", error.Message, StringComparison.Ordinal);
        Assert.Contains("Consumer.GroupId is required", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddInboxKafkaConsumer_NullConfiguration_ThrowsWithParameterName()
        => Assert.Equal(
            "configuration",
            Assert.Throws<ArgumentNullException>(() => new ServiceCollection().AddInboxKafkaConsumer<TestDbContext, OrderPlaced, OrderPlacedHandler>((IConfiguration)null!)).ParamName);

    private static InboxKafkaConsumerService<TestDbContext, OrderPlaced, OrderPlacedHandler> Subscription(IServiceProvider provider)
        => provider.GetServices<IHostedService>().OfType<InboxKafkaConsumerService<TestDbContext, OrderPlaced, OrderPlacedHandler>>().Single();
}
