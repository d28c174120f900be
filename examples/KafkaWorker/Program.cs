// A worker service that bills each OrderPlaced from Kafka exactly once and sends an InvoiceCreated per order to the
// "invoices" topic through its outbox.
//
//   dotnet run --project examples/KafkaWorker                      # consume (SQLite file, Kafka on localhost:9092)
//   dotnet run --project examples/KafkaWorker -- produce 100       # send 100 sample orders, each sent twice
//
// Configuration (appsettings.json or environment): the subscription is the "Billing" section, bound as it is
// (Billing__Consumer__BootstrapServers, Billing__Topics__0, Billing__Consumer__GroupId, ...); the inbox's options are
// the "Inbox" section; ConnectionStrings__Postgres to use PostgreSQL instead of ConnectionStrings__Sqlite.
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Inbox;
using Inbox.Kafka;
using KafkaWorker;
using Microsoft.EntityFrameworkCore;

var builder = Host.CreateApplicationBuilder(args);
var billing = builder.Configuration.GetSection("Billing");
var bootstrapServers = billing["Consumer:BootstrapServers"] ?? "localhost:9092";
var topic = billing["Topics:0"] ?? "orders";

if (args is ["produce", var countText, ..])
{
    using var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = bootstrapServers }).Build();
    for (var i = 0; i < int.Parse(countText, System.Globalization.CultureInfo.InvariantCulture); i++)
    {
        var order = new OrderPlaced($"order-{Guid.NewGuid():N}", $"customer-{i % 10}", 10m + i);
        var message = new Message<string, string>
        {
            Key = order.CustomerId,
            Value = JsonSerializer.Serialize(order, JsonSerializerOptions.Web),
            Headers = [new Header("MessageId", Encoding.UTF8.GetBytes(order.OrderId))],
        };

        // Twice, as a producer retry would: the inbox bills it once.
        producer.Produce(topic, message);
        producer.Produce(topic, message);
    }

    producer.Flush(TimeSpan.FromSeconds(30));
    Console.WriteLine($"Sent {countText} orders, each twice, to {topic} on {bootstrapServers}.");
    return;
}

builder.Services.AddDbContext<BillingDbContext>(o =>
{
    if (builder.Configuration.GetConnectionString("Postgres") is { Length: > 0 } postgres)
    {
        o.UseNpgsql(postgres);
    }
    else
    {
        o.UseSqlite(builder.Configuration.GetConnectionString("Sqlite") ?? "Data Source=kafka-worker.db");
    }
});

builder.Services.AddInbox<BillingDbContext>(builder.Configuration.GetSection("Inbox"));
builder.Services.AddInboxKafkaConsumer<BillingDbContext, OrderPlaced, OrderPlacedHandler>(billing);
builder.Services.AddOutbox<BillingDbContext>(o => o.UseKafka(new ProducerConfig { BootstrapServers = bootstrapServers }));
builder.Services.AddHealthChecks().AddInbox<BillingDbContext>().AddInboxKafka().AddOutbox<BillingDbContext>();

var host = builder.Build();

// An example creates its schema at start; an application would use migrations.
using (var scope = host.Services.CreateScope())
{
    await scope.ServiceProvider.GetRequiredService<BillingDbContext>().Database.EnsureCreatedAsync();
}

await host.RunAsync();
