// A worker on RabbitMQ and PostgreSQL without MassTransit: Inbox.RabbitMQ consumes the queue "orders" (options in
// appsettings.json, section "Orders"), writes a shipment per new order and sends OrderShipped through the outbox.
// Connection strings come from INBOX_POSTGRES / INBOX_RABBITMQ (as printed by `build/services.sh env`, or for
// `docker compose up -d`) or else ConnectionStrings in appsettings.json. The schema is created with EnsureCreated at
// start-up, to keep the example short; an application uses migrations (`dotnet ef migrations add AddInbox`).
using Inbox.RabbitMQ;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using RabbitMQ.Client;
using RabbitMqWorker;

var builder = Host.CreateApplicationBuilder(args);

var postgres = new NpgsqlConnectionStringBuilder(builder.Configuration["INBOX_POSTGRES"] ?? builder.Configuration.GetConnectionString("Postgres"));
postgres.Database ??= "inbox_rabbitmq_worker";
var broker = new ConnectionFactory { Uri = new Uri(builder.Configuration["INBOX_RABBITMQ"] ?? builder.Configuration.GetConnectionString("RabbitMq") ?? "amqp://guest:guest@127.0.0.1:5672/") };

builder.Services.AddDbContext<ShopDbContext>(o => o.UseNpgsql(postgres.ConnectionString, npgsql => npgsql.EnableRetryOnFailure()));
builder.Services.AddInbox<ShopDbContext>(o => o.DeduplicationWindow = TimeSpan.FromDays(7));
builder.Services.AddInboxRabbitMqConsumer<ShopDbContext, OrderPlaced, ShipOrderHandler>(builder.Configuration.GetSection("Orders"), o => o.Connection = broker);
builder.Services.AddOutbox<ShopDbContext>(o => o.UseRabbitMq(broker));
builder.Services.AddSingleton(broker);
builder.Services.AddHostedService<DemoPublisher>();

using var host = builder.Build();
await using (var scope = host.Services.CreateAsyncScope())
{
    await scope.ServiceProvider.GetRequiredService<ShopDbContext>().Database.EnsureCreatedAsync();
}

await host.RunAsync();
