using System.Text;
using Inbox.MassTransit.Tests.Support;
using Inbox.RabbitMQ;
using Inbox.TestSupport;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;

namespace Inbox.MassTransit.Tests;

/// <summary>
/// Producers outside MassTransit, published with plain RabbitMQ.Client: raw JSON and hand-written envelopes, GUID and
/// non-GUID message IDs, IDs in headers, sent times set and not set.
/// </summary>
public sealed class RabbitMqRawProducerTests() : RabbitMqPostgresTests("inbox_raw")
{
    [Fact]
    public async Task RawJson_RandomGuidIdsWithoutASentTime_AreNeverLate_UnderTheRejectPolicy()
    {
        var queue = Broker.NewQueueName("rawlate");
        await using var host = await CreateSut(queue, rawJson: true);

        // Random GUIDs whose bytes MassTransit would read as a send time long ago (about 1 in 1,000): before the fix each
        // of these fresh messages was called late and, under Reject, sent to the error queue.
        var oldLooking = RandomGuids().Where(g => g.ToNewId().Timestamp is var t && t > DateTime.UnixEpoch && t < DateTime.UtcNow.AddDays(-1)).Take(10).ToList();
        var ordinary = Enumerable.Range(0, 10).Select(_ => Guid.NewGuid());
        var ids = oldLooking.Concat(ordinary).ToList();
        foreach (var (id, i) in ids.Select((id, i) => (id, i)))
        {
            await Broker.PublishRawAsync(queue, $$"""{"orderId":"raw-{{i}}"}""", "application/json", p => p.MessageId = id.ToString());
        }

        await Eventually.WaitAsync(() => Metrics.Processed(queue) == 20, $"all 20 are processed (processed {Metrics.Processed(queue)})");
        Assert.Equal(20, await host.ShippedCountAsync());
        Assert.Equal(0u, await Broker.CountAsync(queue + "_error"));
    }

    [Fact]
    public async Task Envelope_LateDuplicateIsSkipped_LateUnknownIsRejectedWithTheReason_TheNextIsProcessed()
    {
        var queue = Broker.NewQueueName("envlate");
        await using var host = await CreateSut(queue, rawJson: false);
        var known = Guid.NewGuid();
        var unknown = Guid.NewGuid();
        var twoHoursAgo = DateTime.UtcNow.AddHours(-2);

        await Broker.PublishOrderEnvelopeAsync(queue, known, DateTime.UtcNow, "known");
        await Eventually.WaitAsync(() => Metrics.Processed(queue) == 1, "the first copy is processed");
        await Broker.PublishOrderEnvelopeAsync(queue, known, twoHoursAgo, "known");
        await Broker.PublishOrderEnvelopeAsync(queue, unknown, twoHoursAgo, "unknown");
        await Broker.PublishOrderEnvelopeAsync(queue, Guid.NewGuid(), DateTime.UtcNow, "next");

        await Eventually.WaitAsync(() => Metrics.Processed(queue) == 2 && Metrics.Duplicates(queue) == 1, $"the late copy is a duplicate and the next is processed (processed {Metrics.Processed(queue)}, duplicates {Metrics.Duplicates(queue)})");
        await Eventually.WaitAsync(async () => await Broker.CountAsync(queue + "_error") == 1, "the late unknown message reaches the error queue");
        var rejected = Assert.Single(await Broker.DrainAsync(queue + "_error"));
        Assert.Equal(typeof(LateMessageException).FullName, rejected.ExceptionType);
        Assert.Contains("longer than the deduplication window", rejected.Reason, StringComparison.Ordinal);
        Assert.Contains(unknown.ToString(), Encoding.UTF8.GetString(rejected.Body), StringComparison.Ordinal);
        Assert.Equal(["known", "next"], host.Probe.OrderIds.Order());
    }

    [Fact]
    public async Task RawJson_NonGuidMessageIds_AreDeduplicated()
    {
        var queue = Broker.NewQueueName("rawid");
        await using var host = await CreateSut(queue, rawJson: true);

        await Broker.PublishRawAsync(queue, """{"orderId":"123"}""", "application/json", p => p.MessageId = "order-123");
        await Broker.PublishRawAsync(queue, """{"orderId":"123"}""", "application/json", p => p.MessageId = "order-123");
        await Broker.PublishRawAsync(queue, """{"orderId":"456"}""", "application/json", p => p.MessageId = "order-456");

        await Eventually.WaitAsync(() => Metrics.Processed(queue) + Metrics.Duplicates(queue) == 3, "all three are delivered");
        Assert.Equal((2, 1), (Metrics.Processed(queue), Metrics.Duplicates(queue)));
        var recorded = await host.QueryAsync(db => db.Database.SqlQueryRaw<string>("SELECT message_id AS \"Value\" FROM inbox_messages ORDER BY 1").ToListAsync());
        Assert.Equal(["order-123", "order-456"], recorded);
        Assert.Equal(0u, await Broker.CountAsync(queue + "_error"));
    }

    [Fact]
    public async Task RawJson_IdInAConfiguredHeader_IsDeduplicated_AndAnOverlongOneGoesToTheErrorQueue()
    {
        var queue = Broker.NewQueueName("rawhdr");
        await using var host = await CreateSut(queue, rawJson: true, configure: o => o.MessageIdHeaders = ["X-Message-Id"]);
        var overlong = new string('x', 300);

        // The header wins over the transport's message_id, which a producer may set anew on every retry; its name is
        // matched whatever its case.
        await Broker.PublishRawAsync(queue, """{"orderId":"a"}""", "application/json", p => { p.MessageId = Guid.NewGuid().ToString(); p.Headers = Header("x-message-id", "evt-1"); });
        await Broker.PublishRawAsync(queue, """{"orderId":"a"}""", "application/json", p => { p.MessageId = Guid.NewGuid().ToString(); p.Headers = Header("x-message-id", "evt-1"); });
        await Broker.PublishRawAsync(queue, """{"orderId":"long"}""", "application/json", p => p.Headers = Header("x-message-id", overlong));
        await Broker.PublishRawAsync(queue, """{"orderId":"b"}""", "application/json", p => p.Headers = Header("X-Message-Id", "evt-2"));

        await Eventually.WaitAsync(() => Metrics.Processed(queue) == 2 && Metrics.Duplicates(queue) == 1, $"evt-1 once, its copy skipped, evt-2 once (processed {Metrics.Processed(queue)})");
        await Eventually.WaitAsync(async () => await Broker.CountAsync(queue + "_error") == 1, "the over-long ID reaches the error queue");
        var rejected = Assert.Single(await Broker.DrainAsync(queue + "_error"));
        Assert.Equal(typeof(InvalidInboxInputException).FullName, rejected.ExceptionType);
        Assert.Contains("is 300 characters long; the limit is 256", rejected.Reason, StringComparison.Ordinal);
        Assert.Equal(["a", "b"], host.Probe.OrderIds.Order());
    }

    private static Dictionary<string, object?> Header(string name, string value) => new() { [name] = Encoding.UTF8.GetBytes(value) };

    private static IEnumerable<Guid> RandomGuids()
    {
        for (var i = 0; i < 10_000_000; i++)
        {
            yield return Guid.NewGuid();
        }
    }

    [Fact]
    public async Task InboxRabbitMqOutbox_FeedsAUseInboxEndpoint_EachMessageOnce_ARepeatOfItsMessageIdIsADuplicate()
    {
        var queue = Broker.NewQueueName("fromoutbox");
        var broker = await Servers.RabbitMqAsync();
        await using var host = await CreateSut(
            queue,
            rawJson: true,
            services: s => s.AddOutbox<ShopDbContext>(o => o.UseRabbitMq(new ConnectionFactory { Uri = broker })));

        // What a service on Inbox.RabbitMQ sends through its outbox: raw JSON, the row's stable ID as message_id.
        var ids = await host.QueryAsync(async db =>
        {
            var written = Enumerable.Range(0, 10).Select(i => db.Outbox().Send(queue, new { orderId = $"plain-{i}" })).ToList();
            await db.SaveChangesAsync();
            return written;
        });
        await Eventually.WaitAsync(() => Metrics.Processed(queue) == 10, $"the ten are processed (processed {Metrics.Processed(queue)})");

        // A dispatch repeated after a crash sends the same message_id again: the MassTransit inbox knows it.
        await Broker.PublishRawAsync(queue, """{"orderId":"plain-0"}""", "application/json", p => p.MessageId = ids[0]);
        await Eventually.WaitAsync(() => Metrics.Duplicates(queue) == 1, "the repeat to be a duplicate");

        Assert.Equal(10, await host.ShippedCountAsync());
        var recorded = await host.QueryAsync(db => db.Database.SqlQueryRaw<string>("SELECT message_id AS \"Value\" FROM inbox_messages ORDER BY 1").ToListAsync());
        Assert.Equal(ids.Order(), recorded);
        Assert.Equal(0, await host.OutboxCountAsync());
        Assert.Equal(0u, await Broker.CountAsync(queue + "_error"));
    }

    private Task<TestHost> CreateSut(string queue, bool rawJson, Action<InboxConsumeOptions>? configure = null, Action<IServiceCollection>? services = null)
        => TestHost.StartRabbitMqAsync(
            TestHost.Postgres(Database.ConnectionString),
            (context, cfg) =>
            {
                cfg.UseInbox(context, configure);
                cfg.ReceiveEndpoint(queue, e =>
                {
                    if (rawJson)
                    {
                        e.UseRawJsonDeserializer(RawSerializerOptions.AnyMessageType, isDefault: true);
                    }

                    e.ConfigureConsumer<ShipOrderConsumer>(context);
                });
            },
            s =>
            {
                s.Configure<InboxOptions>(o =>
                {
                    o.DeduplicationWindow = TimeSpan.FromHours(1);
                    o.LateMessagePolicy = LateMessagePolicy.Reject;
                });
                services?.Invoke(s);
            });
}
