using Inbox.RabbitMQ.Tests.Support;
using Inbox.TestSupport;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Inbox.RabbitMQ.Tests;

/// <summary>
/// The broker restarted under load, on a node of the test's own: the consumer's connection recovers by itself, the
/// deliveries it had not acknowledged come back and are recognised, and nothing is dead-lettered for the outage.
/// </summary>
public sealed class RabbitMqBrokerRestartTests(ITestOutputHelper output)
{
    /// <param name="batchSize">1, one delivery per unit of work; 50, batches, whose deliveries waiting when the connection
    /// drops are settled against delivery tags of the old channel.</param>
    [Theory]
    [InlineData(1)]
    [InlineData(50)]
    public async Task BrokerStoppedAndStartedUnderLoad_ConsumerRecovers_EveryIdTakesEffectOnce_NothingDeadLettered(int batchSize)
    {
        await using var node = await RabbitMqServer.StartAsync();
        await using var harness = await ConsumerHarness.CreateAsync(broker: node.Uri);
        await harness.DeclareAsync();
        var unique = Enumerable.Range(0, 2_000).Select(i => ($"b-{i}", $"order-{i}")).ToList();
        await harness.PublishManyAsync(unique);

        // Under way, then held: handlers that start from here wait on a gate until the broker is down, so the stop falls
        // mid-stream on any machine (a node's stop takes seconds, long enough for an unheld consumer to finish a queue;
        // one CI-like run did) and the held units commit after their connection is gone, to be redelivered.
        harness.Probe.Delay = TimeSpan.FromMilliseconds(10);
        await harness.StartAsync(o =>
        {
            o.MaxConcurrency = 8;
            o.BatchSize = batchSize;
            o.PrefetchCount = (ushort)Math.Max(32, 2 * batchSize);
        });
        await Eventually.WaitAsync(async () => (await harness.InvoicesAsync()).Count >= 100, "the consumer to be under way");
        Assert.Equal(HealthStatus.Healthy, (await harness.HealthAsync()).Status);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Probe.Gate = gate;
        await harness.DisconnectAsync();
        await node.StopAsync();
        var during = (await harness.InvoicesAsync()).Count;
        harness.Probe.Delay = TimeSpan.Zero;
        harness.Probe.Gate = null;
        gate.SetResult();

        // Down past the health check's threshold (1 s here): reported, with the consumer's queue.
        await Eventually.WaitAsync(async () => (await harness.HealthAsync()).Status == HealthStatus.Unhealthy, "the health check to report the lost connection");
        var down = await harness.HealthAsync();
        Assert.Contains($"RabbitMQ consumer {harness.Queue} ({harness.Queue}) has had no connection", down.Entries["inbox-rabbitmq"].Description, StringComparison.Ordinal);
        await node.StartAgainAsync();
        await harness.ReconnectAsync(node.Uri);
        await Eventually.WaitAsync(async () => (await harness.HealthAsync()).Status == HealthStatus.Healthy, "the health check to see the connection recovered", TimeSpan.FromSeconds(60));
        output.WriteLine($"{during} invoices when the broker stopped; {unique.Count} unique IDs.");
        Assert.True(during < unique.Count, "the broker must stop while messages are still waiting");

        await Eventually.WaitAsync(
            async () => (await harness.InvoicesAsync()).Count >= unique.Count && await harness.CountAsync(harness.Queue) == 0,
            "every ID after the restart and the queue drained",
            TimeSpan.FromSeconds(120));
        await harness.StopAsync();

        var invoices = await harness.InvoicesAsync();
        Assert.Equal(unique.Count, invoices.Count);
        Assert.Equal(unique.Select(u => u.Item1).Order(), invoices.Select(i => i.MessageId).Order());
        Assert.Equal(0u, await harness.CountAsync(harness.DeadLetterQueue));
        Assert.Equal(0u, await harness.CountAsync(harness.Queue));
        output.WriteLine(
            $"{harness.Logs.Count(l => l.StartsWith("206 ", StringComparison.Ordinal))} acknowledgements lost with the connection, " +
            $"{harness.Logs.Count(l => l.Contains("is a duplicate", StringComparison.Ordinal))} redeliveries recognised as duplicates.");
    }
}
