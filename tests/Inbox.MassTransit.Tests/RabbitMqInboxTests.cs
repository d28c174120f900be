using System.Text;
using Inbox.MassTransit.Tests.Support;
using Inbox.RabbitMQ;
using Inbox.TestSupport;
using MassTransit;
using Microsoft.EntityFrameworkCore;

namespace Inbox.MassTransit.Tests;

/// <summary>The filter on real RabbitMQ and real PostgreSQL: redelivery, competing consumers, error queues.</summary>
public sealed class RabbitMqInboxTests() : RabbitMqPostgresTests("inbox_mt")
{
    [Fact]
    public async Task TwoCompetingBuses_2000MessagesWithTenPercentDuplicateIds_EachUniqueIdTakesEffectOnce()
    {
        var queue = Broker.NewQueueName("competing");
        await using var first = await CreateSut(queue);
        await using var second = await CreateSut(queue);

        // 1,800 unique IDs; 100 copies sent right behind their original, 100 copies of early messages sent at the end.
        var ids = Enumerable.Range(0, 1800).Select(i => (OrderId: $"order-{i}", MessageId: NewId.NextGuid())).ToList();
        var sends = new List<(string OrderId, Guid MessageId)>();
        for (var i = 0; i < ids.Count; i++)
        {
            sends.Add(ids[i]);
            if (i % 18 == 17)
            {
                sends.Add(ids[i]);
            }
        }

        sends.AddRange(ids.Take(100));
        Assert.Equal(2000, sends.Count);
        var endpoint = await first.Bus.GetSendEndpoint(new Uri($"queue:{queue}"));
        foreach (var chunk in sends.Chunk(100))
        {
            await Task.WhenAll(chunk.Select(s => endpoint.Send(new OrderPlaced(s.OrderId), c => c.MessageId = s.MessageId)));
        }

        await Eventually.WaitAsync(
            () => Metrics.Processed(queue) + Metrics.Duplicates(queue) == 2000,
            $"all 2,000 deliveries are processed or skipped (processed {Metrics.Processed(queue)}, duplicates {Metrics.Duplicates(queue)})",
            TimeSpan.FromSeconds(90));

        var perOrder = await first.QueryAsync(db => db.ShippedOrders.GroupBy(o => o.OrderId).Select(g => new { g.Key, Count = g.Count() }).ToListAsync());
        Assert.Equal(1800, perOrder.Count);
        Assert.All(perOrder, o => Assert.Equal(1, o.Count));
        Assert.Equal(1800, await first.InboxCountAsync());
        Assert.Equal(1800, Metrics.Processed(queue));
        Assert.Equal(200, Metrics.Duplicates(queue));
        Assert.True(first.Probe.Calls > 0 && second.Probe.Calls > 0, $"both buses consumed (first {first.Probe.Calls}, second {second.Probe.Calls})");
        Assert.Equal(0u, await Broker.CountAsync(queue + "_error"));
    }

    [Fact]
    public async Task CrashBetweenCommitAndAck_BrokerRedelivers_OneEffectAndTheRedeliveryIsADuplicate()
    {
        var queue = Broker.NewQueueName("crash");
        var crashes = 0;
        await using var host = await CreateSut(queue, e =>
        {
            // As if the process died after the commit: the broker takes the message back and delivers it again.
            e.RethrowFaultedMessages();
            e.UseFilter(new ThrowAfterCommitFilter(() => Interlocked.Increment(ref crashes)));
        });

        await host.Bus.SendOrderAsync(new Uri($"queue:{queue}"), "order-1", NewId.NextGuid());

        await Eventually.WaitAsync(() => Metrics.Duplicates(queue) == 1, "the redelivered message is skipped as a duplicate");
        Assert.Equal(1, crashes);
        Assert.Equal(1, host.Probe.Calls);
        Assert.Equal(1, await host.ShippedCountAsync());
        Assert.Equal(1, Metrics.Processed(queue));
        Assert.Equal(0u, await Broker.CountAsync(queue + "_error"));
    }

    [Fact]
    public async Task ErrorQueue_ReplayedAfterTheFix_WithRabbitMqDeadLetters_EachOrderShippedOnce_TheOneSentAgainMeanwhileADuplicate()
    {
        var queue = Broker.NewQueueName("replayed");
        await using var host = await CreateSut(queue, retry: r => r.Immediate(1));
        host.Probe.Failure = _ => new InvalidOperationException("the consumer is broken");
        var ids = Enumerable.Range(0, 5).Select(_ => NewId.NextGuid()).ToList();
        foreach (var (id, i) in ids.Select((id, i) => (id, i)))
        {
            await host.Bus.SendOrderAsync(new Uri($"queue:{queue}"), $"order-{i}", id);
        }

        await Eventually.WaitAsync(async () => await Broker.CountAsync(queue + "_error") == 5, "the five orders to reach the error queue");

        // Fixed; the first order comes again from its sender meanwhile.
        host.Probe.Failure = _ => null;
        await host.Bus.SendOrderAsync(new Uri($"queue:{queue}"), "order-0", ids[0]);
        await Eventually.WaitAsync(async () => await host.ShippedCountAsync() == 1, "the order sent again");

        var replay = await RabbitMqDeadLetters.ReplayAsync(new RabbitMQ.RabbitMqDeadLetterReplayOptions
        {
            Connection = new global::RabbitMQ.Client.ConnectionFactory { Uri = await Servers.RabbitMqAsync() },
            DeadLetterQueue = queue + "_error",
        });

        Assert.Equal((5L, 5L, 0L, true), (replay.Read, replay.Replayed, replay.Unreplayable, replay.Complete));
        await Eventually.WaitAsync(async () => await host.ShippedCountAsync() == 5 && Metrics.Duplicates(queue) == 1, "the replayed orders, one a duplicate");
        Assert.Equal(5, await host.InboxCountAsync());
        Assert.Equal(0u, await Broker.CountAsync(queue + "_error"));
    }

    [Fact]
    public async Task AlwaysFailingConsumer_RetriesThenErrorQueue_NoInboxRow_AndRepublishedAfterTheFixItIsProcessedOnce()
    {
        var queue = Broker.NewQueueName("failing");
        await using var host = await CreateSut(queue, retry: r => r.Immediate(2));
        host.Probe.Failure = _ => new InvalidOperationException("the consumer is broken");

        await host.Bus.SendOrderAsync(new Uri($"queue:{queue}"), "order-1", NewId.NextGuid());

        await Eventually.WaitAsync(async () => await Broker.CountAsync(queue + "_error") == 1, "the message reaches the error queue");
        Assert.Equal(3, host.Probe.Calls);
        Assert.Equal(0, await host.InboxCountAsync());
        Assert.Equal(0, await host.ShippedCountAsync());

        host.Probe.Failure = _ => null;
        var failed = Assert.Single(await Broker.DrainAsync(queue + "_error"));
        Assert.Contains("the consumer is broken", failed.Reason, StringComparison.Ordinal);
        await Broker.PublishRawAsync(queue, failed.Body, failed.Properties.ContentType!, failed.Properties);
        await Eventually.WaitAsync(async () => await host.ShippedCountAsync() == 1, "the republished message is processed");

        await Broker.PublishRawAsync(queue, failed.Body, failed.Properties.ContentType!, failed.Properties);
        await Eventually.WaitAsync(() => Metrics.Duplicates(queue) == 1, "a second republish is skipped as a duplicate");
        Assert.Equal(1, await host.ShippedCountAsync());
        Assert.Equal(1, await host.InboxCountAsync());
    }

    [Fact]
    public async Task NoMessageIdAndUndeserializableBody_GoToTheErrorQueueWithTheReason_AndTheNextMessageIsProcessed()
    {
        var queue = Broker.NewQueueName("invalid");
        await using var host = await CreateSut(queue);
        var messageType = $"urn:message:{typeof(OrderPlaced).Namespace}:{nameof(OrderPlaced)}";

        await Broker.PublishRawAsync(queue, "{\"messageType\":[\"" + messageType + "\"],\"message\":{\"orderId\":\"no-id\"}}");
        await Broker.PublishRawAsync(queue, "{ this is not json");
        await host.Bus.SendOrderAsync(new Uri($"queue:{queue}"), "order-ok", NewId.NextGuid());

        await Eventually.WaitAsync(async () => await host.ShippedCountAsync() == 1, "the valid message is processed");
        await Eventually.WaitAsync(async () => await Broker.CountAsync(queue + "_error") == 2, "both invalid messages reach the error queue");
        var errors = await Broker.DrainAsync(queue + "_error");
        Assert.Contains(errors, e => e.Reason!.Contains("The message has no usable MessageId", StringComparison.Ordinal) && e.ExceptionType == typeof(InvalidInboxInputException).FullName);
        Assert.Contains(errors, e => Encoding.UTF8.GetString(e.Body) == "{ this is not json" && e.ExceptionType == "System.Text.Json.JsonReaderException" && e.Reason!.Contains("invalid", StringComparison.Ordinal));
        Assert.Equal(["order-ok"], host.Probe.OrderIds);
        Assert.Equal(1, await host.InboxCountAsync());
    }

    private Task<TestHost> CreateSut(string queue, Action<IRabbitMqReceiveEndpointConfigurator>? endpoint = null, Action<IRetryConfigurator>? retry = null)
        => TestHost.StartRabbitMqAsync(TestHost.Postgres(Database.ConnectionString), (context, cfg) =>
        {
            if (retry is not null)
            {
                cfg.UseMessageRetry(retry);
            }

            cfg.UseInbox(context);
            cfg.ReceiveEndpoint(queue, e =>
            {
                e.PrefetchCount = 32;
                e.ConcurrentMessageLimit = 8;
                endpoint?.Invoke(e);
                e.ConfigureConsumer<ShipOrderConsumer>(context);
            });
        });

    /// <summary>A filter outside the inbox that fails after the commit on a message's first delivery.</summary>
    private sealed class ThrowAfterCommitFilter(Action crashed) : IFilter<ConsumeContext>
    {
        public async Task Send(ConsumeContext context, IPipe<ConsumeContext> next)
        {
            await next.Send(context);
            if (!context.ReceiveContext.Redelivered)
            {
                crashed();
                throw new InvalidOperationException("crash between commit and acknowledgement");
            }
        }

        public void Probe(ProbeContext context) => context.CreateFilterScope("throwAfterCommit");
    }
}
