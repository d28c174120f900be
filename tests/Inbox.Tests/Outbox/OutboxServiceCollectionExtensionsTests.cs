using Inbox.Outbox.Dispatching;
using Inbox.Tests.Contract;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Inbox.Tests.Outbox;

public sealed class OutboxServiceCollectionExtensionsTests
{
    [Fact]
    public void AddOutbox_FromAConfigurationSection_BindsTheOptions_TransportsFromCode()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Outbox:PollInterval"] = "00:00:02",
            ["Outbox:MaxAttempts"] = "10",
            ["Outbox:Lanes"] = "4",
        }).Build();
        var services = new ServiceCollection();

        services.AddOutbox<TestDbContext>(configuration.GetSection("Outbox"), o => o.AddTransport("fake", _ => new FakeTransport()));

        using var provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<IOptionsMonitor<OutboxOptions>>().Get(OutboxDispatcher<TestDbContext>.OptionsName);
        Assert.Equal((TimeSpan.FromSeconds(2), 10, 4), (options.PollInterval, options.MaxAttempts, options.Lanes));
    }

    [Fact]
    public async Task StartAsync_NoTransportAndInvalidValues_FailsListingEveryProblem()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddDbContext<TestDbContext>(o => o.UseSqlite("Data Source=:memory:"));
        builder.Services.AddOutbox<TestDbContext>(o => o.BatchSize = 0);
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("BatchSize must be between 1 and 10,000; it is 0", error.Message, StringComparison.Ordinal);
        Assert.Contains("o.UseKafka(producerConfig)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddOutbox_CalledTwice_RegistersOneDispatcher()
    {
        var services = new ServiceCollection();

        services.AddOutbox<TestDbContext>(o => o.AddTransport("fake", _ => new FakeTransport()));
        services.AddOutbox<TestDbContext>(o => o.MaxAttempts = 3);

        Assert.Single(services, d => d.ServiceType == typeof(OutboxDispatcher<TestDbContext>));
        Assert.Single(services, d => d.ServiceType == typeof(IHostedService));
    }
}
