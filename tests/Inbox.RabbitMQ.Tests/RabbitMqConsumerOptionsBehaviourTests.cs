using Inbox.RabbitMQ.Tests.Support;
using Inbox.TestSupport;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Inbox.RabbitMQ.Tests;

/// <summary>What the README promises of the options beyond the defaults, each on the real broker.</summary>
public sealed class RabbitMqConsumerOptionsBehaviourTests
{
    [Fact]
    public async Task MaxConcurrencyOne_ProcessesTheQueueInPublishOrder()
    {
        await using var harness = await ConsumerHarness.CreateAsync();
        await harness.DeclareAsync();
        var ids = Enumerable.Range(0, 100).Select(i => ($"o-{i:D3}", $"order-{i}")).ToList();
        await harness.PublishManyAsync(ids);

        // A handler of a few milliseconds leaves time for later deliveries to overtake, were they processed concurrently.
        harness.Probe.Delay = TimeSpan.FromMilliseconds(2);
        await harness.StartAsync(o => o.MaxConcurrency = 1);
        await Eventually.WaitAsync(async () => (await harness.InvoicesAsync()).Count == ids.Count, "every message");
        await harness.StopAsync();

        Assert.Equal(ids.Select(i => i.Item1), harness.Probe.Order);
    }

    [Fact]
    public async Task Exchange_TheQueueIsBoundWithTheRoutingKey_OnlyMatchingMessagesArrive()
    {
        await using var harness = await ConsumerHarness.CreateAsync();
        var exchange = await harness.DeclareExchangeAsync("direct");
        await harness.StartAsync(o => { o.Exchange = exchange; o.RoutingKey = "order.placed"; });

        await harness.PublishToExchangeAsync(exchange, "order.placed", "x-1", "order-1");
        await harness.PublishToExchangeAsync(exchange, "order.cancelled", "x-2", "order-2");
        await harness.PublishToExchangeAsync(exchange, "order.placed", "x-3", "order-3");
        await Eventually.WaitAsync(async () => (await harness.InvoicesAsync()).Count == 2, "both matching messages");
        await harness.StopAsync();

        Assert.Equal(["x-1", "x-3"], (await harness.InvoicesAsync()).Select(i => i.MessageId).Order());
    }

    [Fact]
    public async Task ComputeFingerprints_SameIdOtherContent_IsDeadLetteredAsAConflict_TheSameContentIsADuplicate()
    {
        await using var harness = await ConsumerHarness.CreateAsync();
        await harness.DeclareAsync();
        await harness.PublishAsync("f-1", "order-1");
        await harness.PublishAsync("f-1", "order-1");
        await harness.PublishAsync("f-1", "order-other");

        await harness.StartAsync(o => { o.ComputeFingerprints = true; o.MaxConcurrency = 1; });
        await Eventually.WaitAsync(async () => await harness.CountAsync(harness.DeadLetterQueue) == 1, "the conflicting copy to be dead-lettered");
        await Eventually.WaitAsync(async () => await harness.CountAsync(harness.Queue) == 0, "the queue to be empty");
        await harness.StopAsync();

        Assert.Equal("order-1", Assert.Single(await harness.InvoicesAsync()).OrderId);
        var dead = Assert.Single(await harness.DrainAsync(harness.DeadLetterQueue));
        Assert.Equal(InboxRabbitMqDeadLetterHeaders.ReasonConflict, ConsumerHarness.Header(dead.Properties, InboxRabbitMqDeadLetterHeaders.Reason));
        Assert.Contains("order-other", dead.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LateMessageUnderReject_IsDeadLetteredAsLate_AKnownLateOneIsADuplicate()
    {
        await using var harness = await ConsumerHarness.CreateAsync();
        await harness.DeclareAsync();
        var old = new AmqpTimestamp(DateTimeOffset.UtcNow.AddHours(-2).ToUnixTimeSeconds());
        await harness.PublishAsync("fresh", "order-fresh");
        await harness.PublishAsync("old-unknown", "order-old", p => p.Timestamp = old);

        await harness.StartAsync(inbox: o => { o.DeduplicationWindow = TimeSpan.FromHours(1); o.LateMessagePolicy = LateMessagePolicy.Reject; });
        await Eventually.WaitAsync(async () => await harness.CountAsync(harness.DeadLetterQueue) == 1, "the late message to be dead-lettered");
        await Eventually.WaitAsync(async () => (await harness.InvoicesAsync()).Count == 1, "the fresh one");

        // A late copy of a message the inbox knows is a duplicate, not a rejection.
        await harness.PublishAsync("fresh", "order-fresh", p => p.Timestamp = old);
        await Eventually.WaitAsync(async () => await harness.CountAsync(harness.Queue) == 0, "the late copy to be handled");
        await harness.StopAsync();

        Assert.Equal("fresh", Assert.Single(await harness.InvoicesAsync()).MessageId);
        var dead = Assert.Single(await harness.DrainAsync(harness.DeadLetterQueue));
        Assert.Equal(InboxRabbitMqDeadLetterHeaders.ReasonLateMessage, ConsumerHarness.Header(dead.Properties, InboxRabbitMqDeadLetterHeaders.Reason));
        Assert.Equal("old-unknown", dead.Properties.MessageId);
    }

    [Fact]
    public async Task BrokerUnreachableAtStartUp_TheHostStartsAnyway_HealthReportsIt_TheConsumerConnectsOnceTheBrokerIsThere()
    {
        await using var node = await RabbitMqServer.StartAsync();
        await using var harness = await ConsumerHarness.CreateAsync(broker: node.Uri);
        await harness.DeclareAsync();
        await harness.PublishAsync("late-broker", "order-1");
        await harness.DisconnectAsync();
        await node.StopAsync();

        // The host starts while the broker is down: the consumer connects in the background, with back-off.
        await harness.StartAsync(waitForConsumer: false);
        await Eventually.WaitAsync(async () => (await harness.HealthAsync()).Status == HealthStatus.Unhealthy, "the health check to report no connection");

        await node.StartAgainAsync();
        await harness.ReconnectAsync(node.Uri);
        await Eventually.WaitAsync(async () => (await harness.InvoicesAsync()).Count == 1, "the waiting message once the broker is there", TimeSpan.FromSeconds(60));
        await Eventually.WaitAsync(async () => (await harness.HealthAsync()).Status == HealthStatus.Healthy, "the health check to see the connection");
        await harness.StopAsync();

        Assert.Equal("late-broker", Assert.Single(await harness.InvoicesAsync()).MessageId);
    }

    [Fact]
    public async Task SingleActiveConsumer_TheQueueIsDeclaredWithTheArgument()
    {
        await using var harness = await ConsumerHarness.CreateAsync();
        await harness.StartAsync(o => { o.SingleActiveConsumer = true; o.MaxConcurrency = 1; });
        await harness.StopAsync();

        // RabbitMQ accepts a second declaration only with the same arguments: with the argument it is the same queue,
        // without it the broker refuses it as a different one.
        await using (var same = await harness.OpenChannelAsync())
        {
            await same.QueueDeclareAsync(harness.Queue, durable: true, exclusive: false, autoDelete: false, new Dictionary<string, object?> { ["x-single-active-consumer"] = true });
        }

        await using var other = await harness.OpenChannelAsync();
        var refused = await Assert.ThrowsAsync<OperationInterruptedException>(
            () => other.QueueDeclareAsync(harness.Queue, durable: true, exclusive: false, autoDelete: false, arguments: null));
        Assert.Contains("x-single-active-consumer", refused.Message, StringComparison.Ordinal);
    }

    /// <param name="batchSize">1, one unit of work per delivery, or 20, batches.</param>
    [Theory]
    [InlineData(1)]
    [InlineData(20)]
    public async Task RetryingExecutionStrategy_EnableRetryOnFailure_EachIdOnce_AndTheOutboxSends(int batchSize)
    {
        await using var harness = await ConsumerHarness.CreateAsync();
        await harness.DeclareAsync();
        harness.Probe.InvoiceQueue = await harness.DeclareOtherQueueAsync("invoices");
        var unique = Enumerable.Range(0, 100).Select(i => ($"r-{i}", $"order-{i}")).ToList();
        await harness.PublishManyAsync(unique.Concat(unique.Take(10)));

        await harness.StartAsync(o => { o.BatchSize = batchSize; o.PrefetchCount = 40; }, npgsql: n => n.EnableRetryOnFailure());
        await Eventually.WaitAsync(
            async () => await harness.CountAsync(harness.Probe.InvoiceQueue) == unique.Count && (await harness.OutboxAsync()).Pending == 0 && await harness.CountAsync(harness.Queue) == 0,
            "an invoice and an outgoing message per unique ID");
        await harness.StopAsync();

        Assert.Equal(unique.Select(u => u.Item1).Order(), (await harness.InvoicesAsync()).Select(i => i.MessageId).Order());
        Assert.Equal(0u, await harness.CountAsync(harness.DeadLetterQueue));
        Assert.Equal(0u, await harness.CountAsync(harness.Queue));
    }
}
