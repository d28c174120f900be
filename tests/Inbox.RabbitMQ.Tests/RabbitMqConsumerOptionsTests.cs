using Inbox.RabbitMQ.Consuming;
using Inbox.RabbitMQ.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Inbox.RabbitMQ.Tests;

/// <summary>Options: bound from configuration as the Kafka adapter's are, and checked at start-up, every problem at once.</summary>
public sealed class RabbitMqConsumerOptionsTests
{
    [Fact]
    public void Configuration_BindsEveryOption_AndAHeaderListReplacesTheDefaults()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Billing:Queue"] = "billing",
            ["Billing:ConsumerKey"] = "billing-v1",
            ["Billing:PrefetchCount"] = "64",
            ["Billing:MaxConcurrency"] = "4",
            ["Billing:QueueType"] = "quorum",
            ["Billing:HandlerRetries"] = "5",
            ["Billing:RetryDelay"] = "00:00:02",
            ["Billing:MessageIdHeaders:0"] = "x-id",
            ["Billing:Connection:Uri"] = "amqp://user:secret@rabbit.example:5673/shop",
        }).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddDbContext<BillingDbContext>(o => o.UseSqlite("Data Source=:memory:"));
        services.AddInboxRabbitMqConsumer<BillingDbContext, OrderPlaced, OrderPlacedHandler>(configuration.GetSection("Billing"));
        using var provider = services.BuildServiceProvider();

        var options = Assert.Single(provider.GetServices<IHostedService>().OfType<RabbitMqConsumerService<BillingDbContext, OrderPlaced, OrderPlacedHandler>>()).Options;

        Assert.Equal(("billing", "billing-v1", (ushort)64, 4, "quorum", 5, TimeSpan.FromSeconds(2)),
            (options.Queue, options.ConsumerKey, options.PrefetchCount, options.MaxConcurrency, options.QueueType, options.HandlerRetries, options.RetryDelay));
        Assert.Equal(["x-id"], options.MessageIdHeaders);
        Assert.Equal(("rabbit.example", 5673, "user", "secret", "shop"),
            (options.Connection.HostName, options.Connection.Port, options.Connection.UserName, options.Connection.Password, options.Connection.VirtualHost));
    }

    [Fact]
    public async Task StartAsync_InvalidOptions_FailsListingEveryProblem()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddDbContext<BillingDbContext>(o => o.UseSqlite("Data Source=:memory:"));
        builder.Services.AddInbox<BillingDbContext>();
        builder.Services.AddInboxRabbitMqConsumer<BillingDbContext, OrderPlaced, OrderPlacedHandler>(o =>
        {
            o.PrefetchCount = 0;
            o.MaxConcurrency = 0;
            o.HandlerRetries = -1;
        });
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("Queue is required", error.Message, StringComparison.Ordinal);
        Assert.Contains("PrefetchCount must be at least 1", error.Message, StringComparison.Ordinal);
        Assert.Contains("MaxConcurrency must be between 1", error.Message, StringComparison.Ordinal);
        Assert.Contains("HandlerRetries must be between 0 and 100", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_BatchLargerThanThePrefetch_FailsSayingWhatToSet()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddDbContext<BillingDbContext>(o => o.UseSqlite("Data Source=:memory:"));
        builder.Services.AddInbox<BillingDbContext>();
        builder.Services.AddInboxRabbitMqConsumer<BillingDbContext, OrderPlaced, OrderPlacedHandler>(o =>
        {
            o.Queue = "billing";
            o.BatchSize = 100;
        });
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("BatchSize (100) must not exceed PrefetchCount (32)", error.Message, StringComparison.Ordinal);
        Assert.Contains("Set PrefetchCount to twice the batch size", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_WithoutAddInbox_FailsNamingTheCallThatFixesIt()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddDbContext<BillingDbContext>(o => o.UseSqlite("Data Source=:memory:"));
        builder.Services.AddInboxRabbitMqConsumer<BillingDbContext, OrderPlaced, OrderPlacedHandler>(o => o.Queue = "billing");
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());

        Assert.Contains("call services.AddInbox<BillingDbContext>()", error.Message, StringComparison.Ordinal);
    }
}
