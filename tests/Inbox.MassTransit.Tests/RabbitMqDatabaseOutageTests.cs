using System.Diagnostics;
using Inbox.MassTransit.Tests.Support;
using Inbox.TestSupport;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit.Abstractions;

namespace Inbox.MassTransit.Tests;

/// <summary>
/// A database outage is nobody's bad input: on RabbitMQ with a PostgreSQL server of the test's own, restarted under load
/// or left down, no message may reach the error queue and none may take effect twice.
/// </summary>
public sealed class RabbitMqDatabaseOutageTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly InboxMetrics _metrics = new();
    private PostgresServer _server = null!;
    private RabbitMqQueues _broker = null!;

    public async Task InitializeAsync()
    {
        _server = await PostgresServer.StartAsync();
        _broker = await RabbitMqQueues.ConnectAsync();
    }

    public async Task DisposeAsync()
    {
        _metrics.Dispose();
        await _broker.DisposeAsync();
        await _server.DisposeAsync();
    }

    public static TheoryData<string> RetryPolicies => ["readme-intervals", "immediate-5"];

    [Theory]
    [MemberData(nameof(RetryPolicies))]
    public async Task PostgresRestartedTwiceUnderLoad_EveryUniqueIdTakesEffectOnce_ErrorQueueEmpty_WorkerKeepsRunning(string policy)
    {
        var queue = _broker.NewQueueName("outage");
        await using var host = await CreateSut(queue, retry: policy == "readme-intervals"
            ? r => r.Intervals(100, 500, 1000)
            : r => r.Immediate(5));
        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();

        // 3,600 unique IDs and 400 copies, sent at about 500 a second for 8 seconds.
        var sends = Sends(unique: 3_600, duplicates: 400);
        var endpoint = await host.Bus.GetSendEndpoint(new Uri($"queue:{queue}"));
        var watch = Stopwatch.StartNew();
        var sending = Task.Run(async () =>
        {
            foreach (var chunk in sends.Chunk(50))
            {
                await Task.WhenAll(chunk.Select(s => endpoint.Send(new OrderPlaced(s.OrderId), c => c.MessageId = s.MessageId)));
                await Task.Delay(100);
            }
        });

        // Two restarts of about 3 seconds each while the messages flow.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var firstProcessed = _metrics.Processed(queue);
        var down = await _server.RestartAsync(TimeSpan.FromSeconds(3));
        output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0}s: first restart done, down {down.TotalSeconds:0.0}s; {firstProcessed} processed before it.");
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var secondProcessed = _metrics.Processed(queue);
        down = await _server.RestartAsync(TimeSpan.FromSeconds(3));
        output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0}s: second restart done, down {down.TotalSeconds:0.0}s; {secondProcessed} processed before it.");
        await sending;
        Assert.True(firstProcessed > 0 && secondProcessed > firstProcessed, "the restarts must come while messages are being processed");

        await Eventually.WaitAsync(
            () => _metrics.Processed(queue) + _metrics.Duplicates(queue) >= sends.Count,
            $"every delivery is processed or skipped (processed {_metrics.Processed(queue)}, duplicates {_metrics.Duplicates(queue)})",
            TimeSpan.FromSeconds(120));
        output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0}s: drained; {host.Probe.Calls} consumer calls for {sends.Count} deliveries.");

        var perOrder = await host.QueryAsync(db => db.ShippedOrders.GroupBy(o => o.OrderId).Select(g => new { g.Key, Count = g.Count() }).ToListAsync());
        Assert.Equal(3_600, perOrder.Count);
        Assert.All(perOrder, o => Assert.Equal(1, o.Count));
        Assert.Equal(0u, await _broker.CountAsync(queue + "_error"));
        Assert.False(lifetime.ApplicationStopping.IsCancellationRequested, "the worker was stopped");
        Assert.Equal(3_600, _metrics.Processed(queue));
    }

    [Fact]
    public async Task PostgresDownLongerThanTheLimit_HostStops_MessageGoesBackToTheQueueNotTheErrorQueue()
    {
        var queue = _broker.NewQueueName("down");
        await using var host = await CreateSut(queue, retry: r => r.Immediate(5), storeOutageLimit: TimeSpan.FromSeconds(2));
        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        await _server.StopAsync();
        try
        {
            await host.Bus.SendOrderAsync(new Uri($"queue:{queue}"), "order-1", NewId.NextGuid());

            await Eventually.WaitAsync(() => lifetime.ApplicationStopping.IsCancellationRequested, "the worker to stop itself after the limit", TimeSpan.FromSeconds(30));
            var stopping = Stopwatch.StartNew();
            await host.Host.StopAsync();
            output.WriteLine($"The host stopped in {stopping.Elapsed.TotalSeconds:0.0}s.");
            await Eventually.WaitAsync(async () => await _broker.CountAsync(queue) == 1, "the unacknowledged message to be back in its queue", TimeSpan.FromSeconds(30));
            Assert.Equal(0u, await _broker.CountAsync(queue + "_error"));
        }
        finally
        {
            await _server.StartAgainAsync();
        }
    }

    private static List<(string OrderId, Guid MessageId)> Sends(int unique, int duplicates)
    {
        var ids = Enumerable.Range(0, unique).Select(i => (OrderId: $"order-{i}", MessageId: NewId.NextGuid())).ToList();
        var every = unique / duplicates;
        var sends = new List<(string, Guid)>(unique + duplicates);
        for (var i = 0; i < ids.Count; i++)
        {
            sends.Add(ids[i]);
            if (i % every == every - 1)
            {
                sends.Add(ids[i - (every / 2)]);
            }
        }

        return sends;
    }

    private Task<TestHost> CreateSut(string queue, Action<IRetryConfigurator> retry, TimeSpan? storeOutageLimit = null)
        => TestHost.StartRabbitMqAsync(
            TestHost.Postgres(_server.ConnectionString),
            (context, cfg) =>
            {
                cfg.UseMessageRetry(retry);
                cfg.UseInbox(context);
                cfg.ReceiveEndpoint(queue, e =>
                {
                    e.PrefetchCount = 32;
                    e.ConcurrentMessageLimit = 8;
                    e.ConfigureConsumer<ShipOrderConsumer>(context);
                });
            },
            services =>
            {
                services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
                if (storeOutageLimit is { } limit)
                {
                    services.Configure<InboxOptions>(o => o.StoreOutageLimit = limit);
                }
            });
}
