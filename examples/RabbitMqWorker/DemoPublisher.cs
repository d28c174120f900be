using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using RabbitMQ.Client;

namespace RabbitMqWorker;

/// <summary>
/// Publishes Demo:Orders orders once at start-up as a plain RabbitMQ producer would (JSON, persistent, message_id set),
/// every tenth one twice with the same message_id, then logs the business rows against the unique IDs. Set
/// Demo:Orders to 0 to run as a plain consumer.
/// </summary>
public sealed partial class DemoPublisher(ConnectionFactory broker, IServiceScopeFactory scopes, IConfiguration configuration, TimeProvider time, ILogger<DemoPublisher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var count = configuration.GetValue("Demo:Orders", 0);
        var queue = configuration["Orders:Queue"] ?? "orders";
        if (count <= 0)
        {
            return;
        }

        var run = time.GetUtcNow().ToUnixTimeSeconds();
        await using (var connection = await broker.CreateConnectionAsync(stoppingToken))
        await using (var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), stoppingToken))
        {
            // The consumer declares the queue too; declaring it here as well lets the demo publish before the consumer is up.
            await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, cancellationToken: stoppingToken);
            await channel.QueueDeclareAsync("orders-shipped", durable: true, exclusive: false, autoDelete: false, cancellationToken: stoppingToken);
            for (var i = 1; i <= count; i++)
            {
                var properties = new BasicProperties { MessageId = Guid.NewGuid().ToString(), ContentType = "application/json", Persistent = true };
                var body = JsonSerializer.SerializeToUtf8Bytes(new OrderPlaced($"{run}-{i:D5}"), JsonSerializerOptions.Web);
                await channel.BasicPublishAsync("", queue, mandatory: true, properties, body, stoppingToken);
                if (i % 10 == 0)
                {
                    await channel.BasicPublishAsync("", queue, mandatory: true, properties, body, stoppingToken);
                }
            }
        }

        LogPublished(logger, count + (count / 10), count);
        var prefix = $"{run}-";
        int rows;
        var waited = 0;
        do
        {
            await Task.Delay(TimeSpan.FromMilliseconds(500), time, stoppingToken);
            await using var scope = scopes.CreateAsyncScope();
            rows = await scope.ServiceProvider.GetRequiredService<ShopDbContext>().Shipments.CountAsync(s => s.OrderId.StartsWith(prefix), stoppingToken);
        }
        while (rows < count && ++waited < 60);

        LogShipped(logger, rows, count, rows == count ? "yes" : "NO");
    }

    [LoggerMessage(1, LogLevel.Information, "Demo: published {Published} messages for {Unique} unique orders (every tenth twice, same message_id).")]
    private static partial void LogPublished(ILogger logger, int published, int unique);

    [LoggerMessage(2, LogLevel.Information, "Demo: {Rows} shipments for {Unique} unique orders; rows == unique IDs? {Match}. Each sent one OrderShipped to the queue orders-shipped through the outbox. Ctrl+C to stop.")]
    private static partial void LogShipped(ILogger logger, int rows, int unique, string match);
}
