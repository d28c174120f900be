using Inbox.RabbitMQ.Tests.Support;
using Inbox.TestSupport;

namespace Inbox.RabbitMQ.Tests;

/// <summary>
/// The consumer in a process of its own, killed with SIGKILL mid-stream: no stop, no acknowledgement of what committed
/// last, connections dropped. The broker delivers again whatever was not acknowledged; each ID must take effect once.
/// </summary>
public sealed class RabbitMqKillTests(ITestOutputHelper output)
{
    /// <param name="batchSize">1, a unit of work per delivery; 50, batch mode, two batches at once, acknowledged through the ack window.</param>
    /// <param name="mode">"insert-first", the default unit of work, or "one-round-trip" with the lookup for redeliveries only.</param>
    [Theory]
    [InlineData(1, "insert-first")]
    [InlineData(50, "insert-first")]
    [InlineData(1, "one-round-trip")]
    public async Task Worker_KilledThreeTimesUnderLoad_EveryIdTakesEffectExactlyOnce_NothingDeadLettered(int batchSize, string mode)
    {
        await using var harness = await ConsumerHarness.CreateAsync();
        await harness.DeclareAsync();
        var unique = Enumerable.Range(0, 4_000).Select(i => ($"k-{i}", $"order-{i}")).ToList();
        await harness.PublishManyAsync(unique);

        for (var life = 0; life < 3; life++)
        {
            var before = (await harness.InvoicesAsync()).Count;
            using var worker = await StartWorkerAsync(harness, batchSize, mode);
            await Eventually.WaitAsync(
                async () => (await harness.InvoicesAsync()).Count >= before + 600,
                $"life {life + 1} to be under way",
                TimeSpan.FromSeconds(60));
            worker.Kill();
            output.WriteLine($"life {life + 1} killed with {(await harness.InvoicesAsync()).Count} invoices committed");
        }

        var killed = (await harness.InvoicesAsync()).Count;
        Assert.True(killed < unique.Count, "every kill must come while messages are still waiting");
        using (var last = await StartWorkerAsync(harness, batchSize, mode))
        {
            await Eventually.WaitAsync(
                async () => (await harness.InvoicesAsync()).Count >= unique.Count && await harness.CountAsync(harness.Queue) == 0,
                "an invoice for every ID and the queue drained",
                TimeSpan.FromSeconds(120));
            last.Kill();
        }

        // Killed again: anything it had not acknowledged would be back in the queue now.
        await Eventually.WaitAsync(async () => await harness.ConsumersAsync(harness.Queue) == 0, "the last worker's consumer to be gone");
        var invoices = await harness.InvoicesAsync();
        Assert.Equal(unique.Count, invoices.Count);
        Assert.Equal(unique.Select(u => u.Item1).Order(), invoices.Select(i => i.MessageId).Order());
        Assert.Equal(0u, await harness.CountAsync(harness.DeadLetterQueue));
        output.WriteLine($"{unique.Count} IDs, {invoices.Count} invoices; {await harness.CountAsync(harness.Queue)} messages left in the queue.");
    }

    private static Task<WorkerProcess> StartWorkerAsync(ConsumerHarness harness, int batchSize, string mode)
    {
        string[] args = ["consume", harness.Broker.ToString(), harness.ConnectionString, harness.Queue, "2", batchSize.ToString(System.Globalization.CultureInfo.InvariantCulture)];
        return WorkerProcess.StartAsync(typeof(ConsumerWorker).Assembly, mode == "one-round-trip" ? [.. args, mode] : args);
    }
}
