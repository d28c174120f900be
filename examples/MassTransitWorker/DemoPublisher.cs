using MassTransit;
using Microsoft.EntityFrameworkCore;

namespace MassTransitWorker;

/// <summary>
/// Publishes Demo:Orders orders once at start-up, every tenth one twice with the same MessageId, then logs the
/// business rows against the unique IDs. Set Demo:Orders to 0 to run as a plain consumer.
/// </summary>
public sealed partial class DemoPublisher(IBus bus, IServiceScopeFactory scopes, IConfiguration configuration, TimeProvider time, ILogger<DemoPublisher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var count = configuration.GetValue("Demo:Orders", 0);
        if (count <= 0)
        {
            return;
        }

        var run = time.GetUtcNow().ToUnixTimeSeconds();
        for (var i = 1; i <= count; i++)
        {
            var messageId = NewId.NextGuid();
            var order = new OrderPlaced($"{run}-{i:D5}");
            await bus.Publish(order, c => c.MessageId = messageId, stoppingToken);
            if (i % 10 == 0)
            {
                await bus.Publish(order, c => c.MessageId = messageId, stoppingToken);
            }
        }

        LogPublished(logger, count + (count / 10), count);
        var prefix = $"{run}-";
        int rows;
        var waited = 0;
        do
        {
            await Task.Delay(500, stoppingToken);
            await using var scope = scopes.CreateAsyncScope();
            rows = await scope.ServiceProvider.GetRequiredService<ShopDbContext>().Shipments.CountAsync(s => s.OrderId.StartsWith(prefix), stoppingToken);
        }
        while (rows < count && ++waited < 60);

        LogShipped(logger, rows, count, rows == count ? "yes" : "NO");
    }

    [LoggerMessage(1, LogLevel.Information, "Demo: published {Published} messages for {Unique} unique orders (every tenth twice, same MessageId).")]
    private static partial void LogPublished(ILogger logger, int published, int unique);

    [LoggerMessage(2, LogLevel.Information, "Demo: {Rows} shipments for {Unique} unique orders; rows == unique IDs? {Match}. Ctrl+C to stop.")]
    private static partial void LogShipped(ILogger logger, int rows, int unique, string match);
}
