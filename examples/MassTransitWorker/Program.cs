// A MassTransit worker on RabbitMQ and PostgreSQL (cfg.UseInbox); for RabbitMQ without MassTransit see
// examples/RabbitMqWorker. Connection strings come from INBOX_POSTGRES / INBOX_RABBITMQ (as printed by
// `build/services.sh env`, or for `docker compose up -d`) or else ConnectionStrings in appsettings.json.
// The schema is created with EnsureCreated at start-up, to keep the example short; an application uses migrations
// (`dotnet ef migrations add AddInbox` picks up the inbox table, since it is part of the DbContext's model).
using MassTransit;
using MassTransitWorker;
using Microsoft.EntityFrameworkCore;
using Npgsql;

var builder = Host.CreateApplicationBuilder(args);

var postgres = new NpgsqlConnectionStringBuilder(builder.Configuration["INBOX_POSTGRES"] ?? builder.Configuration.GetConnectionString("Postgres"));
postgres.Database ??= "inbox_masstransit_worker";
var rabbitMq = new Uri(builder.Configuration["INBOX_RABBITMQ"] ?? builder.Configuration.GetConnectionString("RabbitMq") ?? "amqp://guest:guest@127.0.0.1:5672/");

builder.Services.AddDbContext<ShopDbContext>(o => o.UseNpgsql(postgres.ConnectionString, npgsql => npgsql.EnableRetryOnFailure()));
builder.Services.AddInbox<ShopDbContext>(o => o.DeduplicationWindow = TimeSpan.FromDays(7));

builder.Services.AddMassTransit(x =>
{
    x.SetKebabCaseEndpointNameFormatter();
    x.AddConsumer<ShipOrderConsumer>();
    x.UsingRabbitMq((context, cfg) =>
    {
        cfg.Host(rabbitMq);

        // Retry wraps the inbox whatever the order of these calls: each attempt is a fresh transaction.
        cfg.UseMessageRetry(r => r.Intervals(100, 500, 1000));
        cfg.UseInbox(context);
        cfg.ConfigureEndpoints(context);
    });
});
builder.Services.AddHostedService<DemoPublisher>();

using var host = builder.Build();
await using (var scope = host.Services.CreateAsyncScope())
{
    await scope.ServiceProvider.GetRequiredService<ShopDbContext>().Database.EnsureCreatedAsync();
}

await host.RunAsync();
