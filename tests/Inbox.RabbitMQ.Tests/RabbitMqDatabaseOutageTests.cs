using Inbox.RabbitMQ.Tests.Support;
using Inbox.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Inbox.RabbitMQ.Tests;

/// <summary>A database outage is nobody's bad input: held and retried, never dead-lettered, and nothing lost.</summary>
public sealed class RabbitMqDatabaseOutageTests(ITestOutputHelper output)
{
    [Fact]
    public async Task PostgresRestartedUnderLoad_EveryIdTakesEffectOnce_NothingDeadLettered()
    {
        await using var server = await PostgresServer.StartAsync();
        await using var harness = await ConsumerHarness.CreateAsync(connectionString: new NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = "postgres" }.ConnectionString);
        await harness.DeclareAsync();
        var unique = Enumerable.Range(0, 1_500).Select(i => ($"o-{i}", $"order-{i}")).ToList();
        await harness.PublishManyAsync(unique.Concat(unique.Where((_, i) => i % 10 == 0)));

        // Under way, then held: handlers that start from here wait on a gate until the server is back, so the restart
        // falls mid-stream on any machine (a server's stop takes a while, long enough for an unheld consumer to finish
        // the queue), and the held units, their transactions begun before the stop, lose their connection and are retried.
        harness.Probe.Delay = TimeSpan.FromMilliseconds(10);
        await harness.StartAsync(o => o.MaxConcurrency = 8);
        await Eventually.WaitAsync(async () => (await harness.InvoicesAsync()).Count > 0, "the consumer to be under way");
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Probe.Gate = gate;
        var down = await server.RestartAsync(TimeSpan.FromSeconds(3));
        var after = await harness.InvoicesAsync();
        harness.Probe.Delay = TimeSpan.Zero;
        harness.Probe.Gate = null;
        gate.SetResult();
        output.WriteLine($"{after.Count} invoices right after the restart (down {down.TotalSeconds:0.0} s), {unique.Count} unique IDs.");
        Assert.True(after.Count < unique.Count, "the restart must come while messages are still being processed");

        await Eventually.WaitAsync(async () => (await harness.InvoicesAsync()).Count == unique.Count, "an invoice for every unique ID", TimeSpan.FromSeconds(90));
        await Eventually.WaitAsync(async () => await harness.CountAsync(harness.Queue) == 0, "the queue to be empty");
        await harness.StopAsync();

        var invoices = await harness.InvoicesAsync();
        Assert.Equal(unique.Select(u => u.Item1).Order(), invoices.Select(i => i.MessageId).Order());
        Assert.Equal(0u, await harness.CountAsync(harness.DeadLetterQueue));
        Assert.DoesNotContain(harness.Logs, l => l.StartsWith("203 ", StringComparison.Ordinal));
        Assert.Equal(0u, await harness.CountAsync(harness.Queue));
    }

    [Fact]
    public async Task PostgresDownLongerThanTheLimit_HostStops_TheMessageGoesBackToTheQueue_NotToTheDeadLetterQueue()
    {
        await using var server = await PostgresServer.StartAsync();
        await using var harness = await ConsumerHarness.CreateAsync(connectionString: new NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = "postgres" }.ConnectionString);
        await harness.DeclareAsync();
        await harness.StartAsync(inbox: o => o.StoreOutageLimit = TimeSpan.FromSeconds(2));
        var stopping = new TaskCompletionSource();
        harness.Host!.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(() => stopping.TrySetResult());

        await server.StopAsync();
        await harness.PublishAsync("held", "order-held");
        await stopping.Task.WaitAsync(TimeSpan.FromSeconds(60));
        var health = await harness.HealthAsync();
        await harness.StopAsync();

        Assert.Contains(harness.Logs, l => l.StartsWith("205 Critical", StringComparison.Ordinal) && l.Contains("held", StringComparison.Ordinal));
        Assert.Equal(HealthStatus.Unhealthy, health.Status);
        Assert.Contains("stopped: the database stayed down", health.Entries["inbox-rabbitmq"].Description, StringComparison.Ordinal);
        await Eventually.WaitAsync(async () => await harness.CountAsync(harness.Queue) == 1, "the message to be back in its queue");
        Assert.Equal(0u, await harness.CountAsync(harness.DeadLetterQueue));
    }
}
