using Inbox.RabbitMQ;
using Inbox.Testing;
using Inbox.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;
using RabbitMqWorker;

namespace Inbox.Examples.Tests;

/// <summary>examples/RabbitMqWorker's handler, on its own registrations and PostgreSQL, proven exactly-once.</summary>
public sealed class RabbitMqWorkerHandlerTests : IAsyncLifetime
{
    private PostgresDatabase? _database;

    public async Task InitializeAsync() => _database = await PostgresDatabase.CreateAsync("inbox_example");

    public async Task DisposeAsync() => await _database!.DisposeAsync();

    [Fact]
    public async Task ShipOrderHandler_IsExactlyOnce_AndSendsOrderShippedOnce()
    {
        // As the worker's Program.cs registers them, on a database of the test's own; nothing is sent (no host runs).
        var services = new ServiceCollection();
        services.AddDbContext<ShopDbContext>(o => o.UseNpgsql(_database!.ConnectionString, npgsql => npgsql.EnableRetryOnFailure()));
        services.AddInbox<ShopDbContext>(o => o.DeduplicationWindow = TimeSpan.FromDays(7));
        services.AddOutbox<ShopDbContext>(o => o.UseRabbitMq(new ConnectionFactory()));
        await Schema.CreateAsync<ShopDbContext>(services);

        var report = await InboxScenario.For<ShopDbContext>(services)
            .Handle<ShipOrderHandler>("order-1", (handler, db, ct) =>
                handler.HandleAsync(new OrderPlaced("o-1"), RabbitMqMessageContext.ForTest(db, "order-1", queue: "orders"), ct))
            .ShouldBeExactlyOnceAsync();

        var sent = Assert.Single(report.Outbox);
        // Sent to a queue: the default exchange, with the queue as the routing key.
        Assert.Equal(("rabbitmq", "amq.default", "orders-shipped"), (sent.Transport, sent.Destination, sent.PartitionKey));
        Assert.Contains("\"o-1\"", System.Text.Encoding.UTF8.GetString(sent.Body.Span), StringComparison.Ordinal);
    }
}
