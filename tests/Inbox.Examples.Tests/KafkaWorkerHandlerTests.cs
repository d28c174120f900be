using Confluent.Kafka;
using Inbox.Kafka;
using Inbox.Testing;
using Inbox.TestSupport;
using KafkaWorker;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Inbox.Examples.Tests;

/// <summary>examples/KafkaWorker's billing handler, on its own registrations, proven exactly-once on both databases it runs on.</summary>
public sealed class KafkaWorkerHandlerTests : IAsyncLifetime
{
    private readonly SqliteDatabase _sqlite = new();
    private PostgresDatabase? _postgres;

    public async Task InitializeAsync() => _postgres = await PostgresDatabase.CreateAsync("inbox_example");

    public async Task DisposeAsync()
    {
        await _postgres!.DisposeAsync();
        _sqlite.Dispose();
    }

    [Theory]
    [InlineData("PostgreSQL")]
    [InlineData("SQLite")]
    public async Task OrderPlacedHandler_IsExactlyOnce_AndProducesInvoiceCreatedOnce(string database)
    {
        var services = new ServiceCollection();
        services.AddDbContext<BillingDbContext>(o =>
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
        services.AddInbox<BillingDbContext>();
        services.AddOutbox<BillingDbContext>(o => o.UseKafka(new ProducerConfig { BootstrapServers = "localhost:9092" }));
        await Schema.CreateAsync<BillingDbContext>(services);

        var report = await InboxScenario.For<BillingDbContext>(services)
            .Handle<OrderPlacedHandler>("order-1", (handler, db, ct) =>
                handler.HandleAsync(new OrderPlaced("o-1", "c-7", 42m), InboxMessageContext.ForTest(db, "order-1", topic: "orders"), ct))
            .ShouldBeExactlyOnceAsync();

        var produced = Assert.Single(report.Outbox);
        Assert.Equal(("kafka", "invoices", "c-7"), (produced.Transport, produced.Destination, produced.PartitionKey));
        Assert.Contains(report.Checks, c => c.Name == "Concurrent copies" && c.Detail.Contains("Invoices: added", StringComparison.Ordinal));
    }
}
