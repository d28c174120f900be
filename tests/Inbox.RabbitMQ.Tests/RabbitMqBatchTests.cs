using System.Text;
using Inbox.RabbitMQ.Tests.Support;
using Inbox.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Inbox.RabbitMQ.Tests;

/// <summary>
/// Batch mode (<c>BatchSize</c> &gt; 1) on the real RabbitMQ and PostgreSQL: up to N deliveries in one transaction,
/// acknowledged with one multiple-ack after the commit; duplicates, a poison message and bad input cost only themselves;
/// a database down past its limit leaves every delivery of the stopped consumer unacknowledged.
/// </summary>
public sealed class RabbitMqBatchTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Batches_WithDuplicatesAPoisonMessageAndBadInput_EachIdOnce_ManyMessagesPerTransaction_TheRestDeadLettered()
    {
        await using var harness = await ConsumerHarness.CreateAsync();
        await harness.DeclareAsync();
        var unique = Enumerable.Range(0, 1_000).Select(i => ($"b-{i}", $"order-{i}")).ToList();
        var sends = unique.Concat(unique.Where((_, i) => i % 5 == 0)).OrderBy(_ => Random.Shared.Next()).ToList();
        harness.Probe.FailuresLeft["b-501"] = int.MaxValue;
        await harness.PublishManyAsync(sends[..600]);
        await harness.PublishAsync(null, "order-no-id");
        await harness.PublishRawAsync(Encoding.UTF8.GetBytes("{ not json"), p => p.MessageId = "bad-body");
        await harness.PublishManyAsync(sends[600..]);

        await harness.StartAsync(o =>
        {
            o.BatchSize = 50;
            o.PrefetchCount = 100;
            o.HandlerRetries = 2;
            o.RetryDelay = TimeSpan.FromMilliseconds(50);
        });
        await Eventually.WaitAsync(async () => (await harness.InvoicesAsync()).Count >= unique.Count - 1, "an invoice for every unique ID but the poison one");
        await Eventually.WaitAsync(async () => await harness.CountAsync(harness.DeadLetterQueue) == 3, "three dead letters");
        await Eventually.WaitAsync(async () => await harness.CountAsync(harness.Queue) == 0, "the queue to be empty");
        await harness.StopAsync();

        // Stopped: whatever was delivered and not acknowledged would be back in the queue now.
        Assert.Equal(0u, await harness.CountAsync(harness.Queue));
        var invoices = await harness.InvoicesAsync();
        Assert.Equal(unique.Select(u => u.Item1).Where(id => id != "b-501").Order(), invoices.Select(i => i.MessageId).Order());

        // Batches: many messages committed per transaction, never more than the batch size.
        var perTransaction = harness.Probe.Transactions.Where(t => t.Key != "b-501").GroupBy(t => t.Value).Select(g => g.Count()).ToList();
        output.WriteLine($"{perTransaction.Count} transactions for {invoices.Count} invoices; largest {perTransaction.Max()}, mean {perTransaction.Average():0.0}.");
        Assert.True(perTransaction.Max() > 1, "some transaction must hold more than one message");
        Assert.True(perTransaction.Max() <= 50, "no transaction may hold more than the batch size");
        Assert.True(perTransaction.Count < invoices.Count / 2, $"batches must carry most messages: {perTransaction.Count} transactions for {invoices.Count} invoices");

        // The poison message: its batch's run, then HandlerRetries + 1 runs of its own.
        Assert.Equal(4, harness.Probe.Runs["b-501"]);
        var dead = await harness.DrainAsync(harness.DeadLetterQueue);
        Assert.Equal(
            new[] { InboxRabbitMqDeadLetterHeaders.ReasonDeserializationFailed, InboxRabbitMqDeadLetterHeaders.ReasonHandlerFailed, InboxRabbitMqDeadLetterHeaders.ReasonMissingMessageId }.Order(),
            dead.Select(d => ConsumerHarness.Header(d.Properties, InboxRabbitMqDeadLetterHeaders.Reason)).Order());
        Assert.Equal("b-501", ConsumerHarness.Header(dead.Single(d => ConsumerHarness.Header(d.Properties, InboxRabbitMqDeadLetterHeaders.Reason) == InboxRabbitMqDeadLetterHeaders.ReasonHandlerFailed).Properties, InboxRabbitMqDeadLetterHeaders.MessageId));
    }

    [Fact]
    public async Task Batches_PostgresDownLongerThanTheLimit_HostStops_EveryDeliveryGoesBackToTheQueue_NoneToTheDeadLetterQueue()
    {
        await using var server = await PostgresServer.StartAsync();
        await using var harness = await ConsumerHarness.CreateAsync(connectionString: new NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = "postgres" }.ConnectionString);
        await harness.DeclareAsync();
        await harness.StartAsync(o => { o.BatchSize = 20; o.PrefetchCount = 40; }, inbox: o => o.StoreOutageLimit = TimeSpan.FromSeconds(2));
        var stopping = new TaskCompletionSource();
        harness.Host!.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(() => stopping.TrySetResult());

        await server.StopAsync();
        await harness.PublishManyAsync(Enumerable.Range(0, 100).Select(i => ($"held-{i}", $"order-{i}")));
        await stopping.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await harness.StopAsync();

        Assert.Contains(harness.Logs, l => l.StartsWith("205 Critical", StringComparison.Ordinal));
        await Eventually.WaitAsync(async () => await harness.CountAsync(harness.Queue) == 100, "every message to be back in its queue");
        Assert.Equal(0u, await harness.CountAsync(harness.DeadLetterQueue));
    }

    [Fact]
    public async Task ConcurrentBatches_ALaterBatchCommitsWhileAnEarlierOneIsHeld_NothingIsAcknowledgedPastTheHeldOne()
    {
        await using var harness = await ConsumerHarness.CreateAsync();
        await harness.DeclareAsync();
        var ids = Enumerable.Range(0, 30).Select(i => ($"w-{i:D2}", $"order-{i}")).ToList();
        await harness.PublishManyAsync(ids);

        // The first delivery's batch waits; the batches after it commit meanwhile and must wait for it before any
        // acknowledgement: a multiple-ack of theirs would cover the held batch too.
        harness.Probe.Holds["w-00"] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await harness.StartAsync(o =>
        {
            o.BatchSize = 10;
            o.MaxConcurrency = 2;
            o.PrefetchCount = 30;
            o.ShutdownTimeout = TimeSpan.FromSeconds(1);
        });
        await Eventually.WaitAsync(async () => (await harness.InvoicesAsync()).Count >= 10, "a later batch to commit while the first is held");
        var committed = (await harness.InvoicesAsync()).Count;

        // Stopped past the shutdown timeout: the held batch is cancelled, and everything is back in the queue, the
        // committed batches included.
        await harness.StopAsync();
        output.WriteLine($"{committed} invoices committed behind the held batch.");
        await Eventually.WaitAsync(async () => await harness.CountAsync(harness.Queue) == 30, "all thirty messages to be back in the queue");

        // Consumed again, the committed ones are duplicates and the rest are processed: every ID once.
        harness.Probe.Holds.Clear();
        await harness.StartAsync(o => { o.BatchSize = 10; o.MaxConcurrency = 2; o.PrefetchCount = 30; });
        await Eventually.WaitAsync(async () => (await harness.InvoicesAsync()).Count == 30 && await harness.CountAsync(harness.Queue) == 0, "every ID after the restart");
        await harness.StopAsync();
        Assert.Equal(ids.Select(i => i.Item1), (await harness.InvoicesAsync()).Select(i => i.MessageId).Order());
        Assert.Equal(0u, await harness.CountAsync(harness.Queue));
    }
}
