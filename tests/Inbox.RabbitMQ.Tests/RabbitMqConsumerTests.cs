using System.Text;
using System.Text.Json;
using Inbox.RabbitMQ.Tests.Support;
using Inbox.TestSupport;

namespace Inbox.RabbitMQ.Tests;

/// <summary>The consumer on the real RabbitMQ and PostgreSQL: each ID takes effect once, acknowledged after the commit.</summary>
public sealed class RabbitMqConsumerTests
{
    [Fact]
    public async Task Deliveries_WithDuplicateMessageIds_EachIdTakesEffectOnce_EveryDeliveryAcknowledged()
    {
        await using var harness = await ConsumerHarness.CreateAsync();
        await harness.DeclareAsync();
        var unique = Enumerable.Range(0, 400).Select(i => ($"m-{i}", $"order-{i}")).ToList();
        var sends = unique.Concat(unique.Where((_, i) => i % 5 == 0)).OrderBy(_ => Random.Shared.Next()).ToList();
        await harness.PublishManyAsync(sends);

        await harness.StartAsync(o => o.MaxConcurrency = 8);
        await Eventually.WaitAsync(async () => (await harness.InvoicesAsync()).Count >= unique.Count, "an invoice for every unique ID");
        await Eventually.WaitAsync(async () => await harness.CountAsync(harness.Queue) == 0, "the queue to be empty");
        await harness.StopAsync();

        // Stopped: whatever was delivered and not acknowledged would be back in the queue now.
        Assert.Equal(0u, await harness.CountAsync(harness.Queue));
        var invoices = await harness.InvoicesAsync();
        Assert.Equal(unique.Count, invoices.Count);
        Assert.Equal(unique.Select(u => u.Item1).Order(), invoices.Select(i => i.MessageId).Order());
        Assert.All(harness.Probe.Runs.Values, runs => Assert.Equal(1, runs));
        Assert.Equal(0u, await harness.CountAsync(harness.DeadLetterQueue));

        // Every second copy reached the consumer and was recognised, not lost.
        Assert.Equal(sends.Count - unique.Count, harness.Logs.Count(l => l.Contains("is a duplicate", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task RedeliveryOfAMessageThatCommitted_IsADuplicate_TheHandlerDoesNotRunAgain()
    {
        await using var harness = await ConsumerHarness.CreateAsync();
        await harness.DeclareAsync();

        // The first copy commits through the inbox; the second is the broker's redelivery of it, as after a consumer
        // that committed and lost its connection before the acknowledgement: delivered again, flagged redelivered.
        await harness.PublishAsync("m-1", "order-1");
        await harness.StartAsync();
        await Eventually.WaitAsync(async () => (await harness.InvoicesAsync()).Count == 1, "the first delivery to commit");
        await harness.StopAsync();

        await harness.PublishAsync("m-1", "order-1");
        await harness.RequeueFirstAsRedeliveredAsync();
        await harness.PublishAsync("m-2", "order-2");
        await harness.StartAsync();
        await Eventually.WaitAsync(async () => (await harness.InvoicesAsync()).Count == 2, "the next message to commit");
        await Eventually.WaitAsync(async () => await harness.CountAsync(harness.Queue) == 0, "the redelivery to be acknowledged");
        await harness.StopAsync();

        Assert.Equal(["m-1", "m-2"], (await harness.InvoicesAsync()).Select(i => i.MessageId));
        Assert.Equal(1, harness.Probe.Runs["m-1"]);
        Assert.Equal(0u, await harness.CountAsync(harness.Queue));
        Assert.Contains(harness.Logs, l => l.Contains("m-1 is a duplicate", StringComparison.Ordinal));
    }

    [Fact]
    public async Task OneRoundTripWhenRedelivered_TheBrokersRedeliveryIsLookedUpAndSkipped_AProducersCopyRunsItsHandlerAndRollsBack()
    {
        await using var harness = await ConsumerHarness.CreateAsync();
        await harness.DeclareAsync();
        static void OneRoundTrip(InboxOptions o)
        {
            o.OneRoundTrip = true;
            o.OneRoundTripLookup = InboxLookup.WhenRedelivered;
        }

        await harness.PublishAsync("m-1", "order-1");
        await harness.StartAsync(inbox: OneRoundTrip);
        await Eventually.WaitAsync(async () => (await harness.InvoicesAsync()).Count == 1, "the first delivery to commit");
        await harness.StopAsync();

        // The broker's redelivery (flagged) is looked up first and skipped; a producer's copy (not flagged) is not looked
        // up: its handler runs, its insert of the recorded ID fails, and the unit rolls back as a duplicate.
        await harness.PublishAsync("m-1", "order-1");
        await harness.RequeueFirstAsRedeliveredAsync();
        await harness.PublishAsync("m-1", "order-1");
        await harness.PublishAsync("m-2", "order-2");
        await harness.StartAsync(o => o.MaxConcurrency = 1, inbox: OneRoundTrip);
        await Eventually.WaitAsync(async () => (await harness.InvoicesAsync()).Count == 2 && await harness.CountAsync(harness.Queue) == 0, "the copies and the next message");
        await harness.StopAsync();

        Assert.Equal(["m-1", "m-2"], (await harness.InvoicesAsync()).Select(i => i.MessageId).Order());
        Assert.Equal(2, harness.Probe.Runs["m-1"]);
        Assert.Equal(2, harness.Logs.Count(l => l.Contains("m-1 is a duplicate", StringComparison.Ordinal)));
        Assert.Equal(0u, await harness.CountAsync(harness.DeadLetterQueue));
    }

    [Fact]
    public async Task BadInput_GoesToTheDeadLetterQueueOnceWithItsReason_TheOthersAreProcessedOnce_TheConsumerKeepsRunning()
    {
        await using var harness = await ConsumerHarness.CreateAsync();
        await harness.DeclareAsync();
        await harness.PublishAsync("good-1", "order-1");
        await harness.PublishAsync(null, "order-no-id");
        await harness.PublishRawAsync(Encoding.UTF8.GetBytes("{ not json"), p => p.MessageId = "bad-body");
        await harness.PublishAsync(null, "order-long-id", p => p.Headers = new Dictionary<string, object?> { ["message-id"] = new string('x', 300) });
        await harness.PublishAsync("bad\u0001id", "order-control");
        await harness.PublishAsync("good-2", "order-2");

        await harness.StartAsync();
        await Eventually.WaitAsync(async () => await harness.CountAsync(harness.DeadLetterQueue) == 4, "four dead letters");
        await Eventually.WaitAsync(async () => (await harness.InvoicesAsync()).Count == 2, "both good messages");
        await Eventually.WaitAsync(async () => await harness.CountAsync(harness.Queue) == 0, "the queue to be empty");

        // Still consuming after the bad input.
        await harness.PublishAsync("good-3", "order-3");
        await Eventually.WaitAsync(async () => (await harness.InvoicesAsync()).Count == 3, "a message after the bad ones");
        await harness.StopAsync();

        Assert.Equal(["good-1", "good-2", "good-3"], (await harness.InvoicesAsync()).Select(i => i.MessageId).Order());
        var dead = await harness.DrainAsync(harness.DeadLetterQueue);
        var reasons = dead.Select(d => ConsumerHarness.Header(d.Properties, InboxRabbitMqDeadLetterHeaders.Reason)).Order().ToList();
        Assert.Equal(
            new[]
            {
                InboxRabbitMqDeadLetterHeaders.ReasonDeserializationFailed,
                InboxRabbitMqDeadLetterHeaders.ReasonInvalidMessageId,
                InboxRabbitMqDeadLetterHeaders.ReasonInvalidMessageId,
                InboxRabbitMqDeadLetterHeaders.ReasonMissingMessageId,
            }.Order(),
            reasons);
        var unreadable = Assert.Single(dead, d => d.Properties.MessageId == "bad-body");
        Assert.Equal("{ not json", unreadable.Body);
        Assert.Equal(harness.Queue, ConsumerHarness.Header(unreadable.Properties, InboxRabbitMqDeadLetterHeaders.OriginalQueue));
        Assert.Equal("System.Text.Json.JsonException", ConsumerHarness.Header(unreadable.Properties, InboxRabbitMqDeadLetterHeaders.ExceptionType));
        Assert.All(dead, d => Assert.True(d.Properties.Persistent));
        Assert.Equal(0u, await harness.CountAsync(harness.Queue));
    }

    [Fact]
    public async Task HandlerFailingAlways_IsTriedHandlerRetriesPlusOneTimes_ThenDeadLettered_AFlakyOneCommitsOnItsRetry()
    {
        await using var harness = await ConsumerHarness.CreateAsync();
        await harness.DeclareAsync();
        harness.Probe.FailuresLeft["always"] = int.MaxValue;
        harness.Probe.FailuresLeft["once"] = 1;
        await harness.PublishAsync("always", "order-always", p => p.Expiration = "600000");
        await harness.PublishAsync("once", "order-once");
        await harness.PublishAsync("fine", "order-fine");

        await harness.StartAsync(o => o.HandlerRetries = 2);
        await Eventually.WaitAsync(async () => await harness.CountAsync(harness.DeadLetterQueue) == 1, "the always-failing message to be dead-lettered");
        await Eventually.WaitAsync(async () => (await harness.InvoicesAsync()).Count == 2, "the other two to commit");
        await harness.StopAsync();

        Assert.Equal(3, harness.Probe.Runs["always"]);
        Assert.Equal(2, harness.Probe.Runs["once"]);
        Assert.Equal(["fine", "once"], (await harness.InvoicesAsync()).Select(i => i.MessageId).Order());
        var dead = Assert.Single(await harness.DrainAsync(harness.DeadLetterQueue));
        Assert.Equal(InboxRabbitMqDeadLetterHeaders.ReasonHandlerFailed, ConsumerHarness.Header(dead.Properties, InboxRabbitMqDeadLetterHeaders.Reason));
        Assert.Equal("always", ConsumerHarness.Header(dead.Properties, InboxRabbitMqDeadLetterHeaders.MessageId));
        Assert.Null(dead.Properties.Expiration);
        Assert.Contains("fails for always", ConsumerHarness.Header(dead.Properties, InboxRabbitMqDeadLetterHeaders.ExceptionMessage), StringComparison.Ordinal);
        Assert.Equal(0u, await harness.CountAsync(harness.Queue));
    }

    [Fact]
    public async Task MassTransitEnvelope_IsUnwrapped_ItsMessageIdDeduplicates_WithOrWithoutTheProperty()
    {
        await using var harness = await ConsumerHarness.CreateAsync();
        await harness.DeclareAsync();
        var id = Guid.NewGuid().ToString();
        var envelope = JsonSerializer.SerializeToUtf8Bytes(new
        {
            messageId = id,
            sentTime = DateTime.UtcNow.ToString("O"),
            messageType = new[] { "urn:message:Shop:OrderPlaced" },
            message = new { orderId = "order-mt" },
        });
        await harness.PublishRawAsync(envelope, p => { p.ContentType = "application/vnd.masstransit+json"; p.MessageId = id; });
        await harness.PublishRawAsync(envelope, p => p.ContentType = "application/vnd.masstransit+json");

        await harness.StartAsync();
        await Eventually.WaitAsync(async () => await harness.CountAsync(harness.Queue) == 0 && (await harness.InvoicesAsync()).Count == 1, "both copies to be handled");
        await harness.StopAsync();

        var invoice = Assert.Single(await harness.InvoicesAsync());
        Assert.Equal(("order-mt", id), (invoice.OrderId, invoice.MessageId));
        Assert.Equal(1, harness.Probe.Runs[id]);
        Assert.Equal(0u, await harness.CountAsync(harness.DeadLetterQueue));
    }

    [Fact]
    public async Task QuorumQueue_DeclaredByTheConsumer_ProcessesEachIdOnce()
    {
        await using var harness = await ConsumerHarness.CreateAsync();
        await harness.StartAsync(o => o.QueueType = "quorum");
        await harness.PublishManyAsync(Enumerable.Range(0, 50).Select(i => ($"q-{i % 40}", $"order-{i % 40}")));

        await Eventually.WaitAsync(async () => (await harness.InvoicesAsync()).Count == 40 && await harness.CountAsync(harness.Queue) == 0, "every unique ID on the quorum queue");
        await harness.StopAsync();

        Assert.Equal(40, (await harness.InvoicesAsync()).Count);
        Assert.Equal(0u, await harness.CountAsync(harness.Queue));
    }

    [Fact]
    public async Task Stop_WhileDeliveriesAreInFlight_LetsThemCommitAndAcknowledges_NothingComesBack()
    {
        await using var harness = await ConsumerHarness.CreateAsync();
        await harness.DeclareAsync();
        harness.Probe.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await harness.PublishManyAsync(Enumerable.Range(0, 4).Select(i => ($"s-{i}", $"order-{i}")));
        await harness.StartAsync(o => o.MaxConcurrency = 4);
        await Eventually.WaitAsync(() => harness.Probe.Runs.Count == 4, "four handlers to be running");

        var stopping = harness.StopAsync();
        await Task.Delay(200);
        Assert.False(stopping.IsCompleted, "the stop waits for the deliveries in flight");
        harness.Probe.Gate.SetResult();
        await stopping;

        Assert.Equal(4, (await harness.InvoicesAsync()).Count);
        Assert.Equal(0u, await harness.CountAsync(harness.Queue));
    }
}
