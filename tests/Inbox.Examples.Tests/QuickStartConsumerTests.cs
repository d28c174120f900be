using Inbox.Testing;
using Inbox.TestSupport;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using QuickStart;

namespace Inbox.Examples.Tests;

/// <summary>examples/QuickStart's ShipOrderConsumer, behind cfg.UseInbox on SQLite as the quick start runs it, proven exactly-once.</summary>
public sealed class QuickStartConsumerTests : IDisposable
{
    private readonly SqliteDatabase _database = new();

    public void Dispose() => _database.Dispose();

    [Fact]
    public async Task ShipOrderConsumer_IsExactlyOnce_AndPublishesOrderShippedOnce()
    {
        var services = new ServiceCollection();
        services.AddDbContext<ShopDbContext>(o => o.UseSqlite(_database.ConnectionString));
        services.AddInbox<ShopDbContext>();
        await Schema.CreateAsync<ShopDbContext>(services);

        var report = await MassTransitScenario.For<ShopDbContext>(services, x =>
            {
                x.AddConsumer<ShipOrderConsumer>();
                x.AddInboxOutbox<ShopDbContext>();
            })
            .Send(new OrderPlaced("o-1"))
            .ShouldBeExactlyOnceAsync();

        var published = Assert.Single(report.Outbox);
        Assert.Contains("OrderShipped", System.Text.Encoding.UTF8.GetString(published.Body.Span), StringComparison.Ordinal);
    }
}
