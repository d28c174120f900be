using Inbox.TestSupport;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Inbox.Testing.MassTransit.Tests;

/// <summary>
/// A consumer behind cfg.UseInbox on the in-memory transport: the right one passes on SQLite and PostgreSQL with its
/// published event captured once from the outbox; one that saves through a second DbContext is caught.
/// </summary>
public sealed class MassTransitScenarioTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly SqliteDatabase _sqlite = new();
    private PostgresDatabase? _postgres;

    public async Task InitializeAsync() => _postgres = await PostgresDatabase.CreateAsync("inbox_kit_mt");

    public async Task DisposeAsync()
    {
        await _postgres!.DisposeAsync();
        _sqlite.Dispose();
    }

    [Theory]
    [InlineData("SQLite")]
    [InlineData("PostgreSQL")]
    public async Task RightConsumer_Passes_AndItsPublishIsCapturedOnce(string database)
    {
        var services = await ServicesAsync(database);

        var report = await MassTransitScenario.For<ShopDbContext>(services, x =>
            {
                x.AddConsumer<PlaceOrderConsumer>();
                x.AddInboxOutbox<ShopDbContext>();
            })
            .Send(new PlaceOrder("o-1"))
            .ShouldBeExactlyOnceAsync();
        output.WriteLine(report.ToString());

        Assert.Equal(["Crash before the commit", "Concurrent copies", "Redelivered", "Calls outside the database"], report.Checks.Select(c => c.Name));
        Assert.Equal("Nothing went out through an HttpClient, a Kafka producer or the bus.", report.Checks[3].Detail);
        Assert.Contains("1 Processed, 7 Duplicate.", report.Checks[1].Detail, StringComparison.Ordinal);
        var published = Assert.Single(report.Outbox);
        Assert.Contains("OrderAccepted", System.Text.Encoding.UTF8.GetString(published.Body.Span), StringComparison.Ordinal);
        Assert.Equal(1, await CountOrdersAsync(services));
    }

    [Fact]
    public async Task RightConsumer_WithARetryPolicy_Passes_TheCrashStaysArmedThroughItsRetries()
    {
        var services = await ServicesAsync("PostgreSQL");
        var attempts = new Attempts();
        services.AddSingleton(attempts);

        var report = await MassTransitScenario.For<ShopDbContext>(services, x =>
            {
                x.AddConsumer<CountedPlaceOrderConsumer>(c => c.UseMessageRetry(r => r.Immediate(3)));
                x.AddInboxOutbox<ShopDbContext>();
            })
            .Send(new PlaceOrder("o-1"))
            .ShouldBeExactlyOnceAsync();
        output.WriteLine(report.ToString());
        output.WriteLine($"attempts: {attempts.Count}");

        // The crashed delivery ran 1 + 3 times, each failed before its commit; then one copy ran, the rest were duplicates.
        Assert.Equal(5, attempts.Count);
        Assert.Single(report.Outbox);
        Assert.Equal(1, await CountOrdersAsync(services));
    }

    [Fact]
    public async Task SecondDbContext_IsCaughtByTheCrashCheck()
    {
        var services = await ServicesAsync("PostgreSQL");

        var failure = await Assert.ThrowsAsync<ExactlyOnceException>(() => MassTransitScenario.For<ShopDbContext>(services, x => x.AddConsumer<SecondDbContextConsumer>())
            .Send(new PlaceOrder("o-1"))
            .ShouldBeExactlyOnceAsync());
        output.WriteLine(failure.Message);

        var crash = failure.Report!.Checks[0];
        Assert.False(crash.Passed);
        Assert.Contains("Orders: added Id=1, OrderId=\"o-1\"", crash.Detail, StringComparison.Ordinal);
        Assert.Equal(2, await CountOrdersAsync(services));
    }

    [Fact]
    public async Task PublishOnTheBusItself_IsCaught_OncePerDeliveryThatRanTheConsumer()
    {
        var services = await ServicesAsync("PostgreSQL");

        var failure = await Assert.ThrowsAsync<ExactlyOnceException>(() => MassTransitScenario.For<ShopDbContext>(services, x =>
            {
                x.AddConsumer<PublishOnTheBusConsumer>();
                x.AddInboxOutbox<ShopDbContext>();
            })
            .Send(new PlaceOrder("o-1"))
            .ShouldBeExactlyOnceAsync());
        output.WriteLine(failure.Message);

        var checks = failure.Report!.Checks;
        Assert.True(checks[0].Passed && checks[1].Passed && checks[2].Passed, "the order itself is written once");
        Assert.False(checks[3].Passed);
        Assert.Contains("2 requests or messages that change something went out", checks[3].Detail, StringComparison.Ordinal);
        Assert.Contains("Publish OrderAccepted (message ID: ", checks[3].Detail, StringComparison.Ordinal);
        Assert.Contains(", in the crashed delivery", checks[3].Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SendOnTheBusItself_IsCaught_WithTheQueueItWentTo()
    {
        var services = await ServicesAsync("PostgreSQL");

        var failure = await Assert.ThrowsAsync<ExactlyOnceException>(() => MassTransitScenario.For<ShopDbContext>(services, x =>
            {
                x.AddConsumer<SendOnTheBusConsumer>();
                x.AddInboxOutbox<ShopDbContext>();
            })
            .Send(new PlaceOrder("o-1"))
            .ShouldBeExactlyOnceAsync());
        output.WriteLine(failure.Message);

        var checks = failure.Report!.Checks;
        Assert.True(checks[0].Passed && checks[1].Passed && checks[2].Passed, "the order itself is written once");
        Assert.False(checks[3].Passed);
        Assert.Contains("2 requests or messages that change something went out", checks[3].Detail, StringComparison.Ordinal);
        Assert.Matches(@"Send \S*/billing\S* \(message ID: [0-9a-f-]+\), in the crashed delivery", checks[3].Detail);
    }

    private async Task<ServiceCollection> ServicesAsync(string database)
    {
        var services = new ServiceCollection();
        services.AddDbContext<ShopDbContext>(o =>
        {
            if (database == "PostgreSQL")
            {
                o.UseNpgsql(_postgres!.ConnectionString);
            }
            else
            {
                o.UseSqlite(_sqlite.ConnectionString);
            }
        });
        services.AddInbox<ShopDbContext>();
        await Schema.CreateAsync<ShopDbContext>(services);
        return services;
    }

    private static async Task<int> CountOrdersAsync(IServiceCollection services)
    {
        await using var provider = services.BuildServiceProvider();
        await using var scope = provider.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ShopDbContext>().Orders.CountAsync();
    }
}
