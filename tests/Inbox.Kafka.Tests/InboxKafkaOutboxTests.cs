using Confluent.Kafka;
using Inbox.Kafka.Tests.Infrastructure;
using Inbox.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Inbox.Kafka.Tests;

/// <summary>
/// A chain of two services over Kafka: A (inboxed) handles orders and sends an invoice per order through its outbox;
/// B (inboxed) records the invoices. Effects exactly once along the chain, messages at least once with stable IDs.
/// </summary>
public sealed class InboxKafkaOutboxTests(ITestOutputHelper output) : KafkaTestBase(output)
{
    private string InvoiceTopic { get; } = $"invoices-{Guid.NewGuid():N}";

    [Fact]
    public async Task Chain_OrdersWithDuplicates_EveryUniqueOrderGivesExactlyOneInvoiceDownstream()
    {
        await using var broker = await StartBrokerAsync(4);
        await broker.CreateTopicAsync(InvoiceTopic, 4);
        var sent = Stream(2_000, 0.1);
        await ProduceAsync(broker, Topic, sent);

        await using var a = await StartServiceAAsync(broker, dispatch: true);
        await using var b = await StartServiceBAsync(broker);
        var unique = sent.Select(r => r.Id).Distinct().Count();
        await WaitForInvoicesAsync(unique, TimeSpan.FromSeconds(90));

        await AssertChainExactlyOnceAsync(sent);
        await AssertOutboxEmptyAsync();
    }

    [Fact]
    public async Task Chain_ServiceACommitsButDiesBeforeSending_AnotherInstanceSendsEverythingOnce()
    {
        await using var broker = await StartBrokerAsync(4);
        await broker.CreateTopicAsync(InvoiceTopic, 4);
        var sent = Stream(1_000, 0.1);
        await ProduceAsync(broker, Topic, sent);
        var unique = sent.Select(r => r.Id).Distinct().Count();

        // A commits its effects and outbox rows but never sends them, as if killed after each commit.
        var a = await StartServiceAAsync(broker, dispatch: false);
        await WaitForEffectsAsync(unique, TimeSpan.FromSeconds(60), "service A to commit every order");
        await a.DisposeAsync();
        Assert.Equal(unique, await OutboxCountAsync());

        await using var b = await StartServiceBAsync(broker);
        await using var dispatcher = await StartDispatcherAsync(broker);
        await WaitForInvoicesAsync(unique, TimeSpan.FromSeconds(60));

        await AssertChainExactlyOnceAsync(sent);
        await AssertOutboxEmptyAsync();
    }

    [Fact]
    public async Task Chain_ServiceAKilledWithSigkillFourTimes_IncludingBetweenCommitAndDispatch_DownstreamExactlyOnce()
    {
        await using var broker = await StartBrokerAsync(4);
        await broker.CreateTopicAsync(InvoiceTopic, 4);
        var sent = Stream(20_000, 0.1);
        var unique = sent.Select(r => r.Id).Distinct().Count();
        await ProduceAsync(broker, Topic, sent);
        await using var b = await StartServiceBAsync(broker);

        // First life: it commits orders and their outbox rows but sends nothing; killed with rows waiting.
        var kills = new List<string>();
        using (var a = await StartServiceAProcessAsync(broker, dispatch: false))
        {
            await Eventually.Until(async () => await OutboxCountAsync() >= 500, TimeSpan.FromSeconds(60), async () => $"{await OutboxCountAsync()} rows", "committed rows waiting in the outbox");
            a.Kill();
            kills.Add($"killed with {await OutboxCountAsync()} committed rows unsent, {await CountEffectsAsync()} orders done");
        }

        // Three more lives, each killed mid-stream while rows it committed wait to be sent, or are on their way.
        for (var life = 0; life < 3; life++)
        {
            var before = await CountEffectsAsync();
            using var a = await StartServiceAProcessAsync(broker, dispatch: true);
            await Eventually.Until(
                async () => await CountEffectsAsync() >= Math.Min(unique - 1, before + 2_000) && await OutboxCountAsync() > 0,
                TimeSpan.FromSeconds(60),
                async () => $"{await CountEffectsAsync()} orders, {await OutboxCountAsync()} outbox rows",
                "the next life to be under way with rows in flight");
            a.Kill();
            kills.Add($"killed with {await OutboxCountAsync()} rows pending, {await CountEffectsAsync()} orders done, {await InvoiceCountAsync()} invoices downstream");
        }

        // The last life drains everything.
        using (var last = await StartServiceAProcessAsync(broker, dispatch: true))
        {
            await WaitForInvoicesAsync(unique, TimeSpan.FromSeconds(120));
            await AssertOutboxEmptyAsync();
            last.Kill();
        }

        kills.ForEach(Output.WriteLine);
        await AssertChainExactlyOnceAsync(sent);
    }

    [Fact]
    public async Task BrokerDownWhileMessagesArePending_TheyStayAndAllLeaveOnceItIsBack()
    {
        await using var broker = await StartBrokerAsync(2, faultInjection: true);
        await broker.CreateTopicAsync(InvoiceTopic, 2);
        var ids = await WriteInvoicesAsync(200);
        broker.Mock.BrokersDown();

        await using var dispatcher = await StartDispatcherAsync(broker, messageTimeoutMs: 1_000);
        const int unavailable = 32;
        await Eventually.Until(
            () => Task.FromResult(dispatcher.Logs.Count(unavailable) >= 2),
            TimeSpan.FromSeconds(30),
            () => Task.FromResult($"{dispatcher.Logs.Count(unavailable)} unavailable dispatches"),
            "the dispatcher to back off while the brokers are down");
        Assert.Equal(200, await OutboxCountAsync());
        broker.Mock.BrokersUp();

        var received = broker.ReadAll(InvoiceTopic, 200, TimeSpan.FromSeconds(60));
        Assert.Equal(ids.Order(), received.Select(MessageIdOf).Distinct().Order());
        await Eventually.Until(async () => await OutboxCountAsync() == 0, TimeSpan.FromSeconds(30), async () => $"{await OutboxCountAsync()} rows", "the outbox to empty");
    }

    /// <summary>
    /// librdkafka's queue holds 10 records and a dispatch hands it 100: the dispatch waits for room (Confluent's background
    /// thread serves the delivery reports, so the producer may not be polled by hand) and never aborts half-way, which
    /// would send the records already handed a second time.
    /// </summary>
    [Fact]
    public async Task BacklogLargerThanLibrdkafkasQueue_EveryRecordSentOnceInOrder_NoDispatchFails()
    {
        await using var broker = await StartBrokerAsync(1);
        await broker.CreateTopicAsync(InvoiceTopic, 1);
        var ids = await WriteInvoicesAsync(500);

        await using var dispatcher = await StartDispatcherAsync(broker, queueBufferingMaxMessages: 10);
        await AssertOutboxEmptyAsync();

        var received = broker.ReadAll(InvoiceTopic, 500, TimeSpan.FromSeconds(30));
        Assert.Equal(ids, received.Select(MessageIdOf));
        const int dispatchFailed = 31;
        Assert.Equal(0, dispatcher.Logs.Count(dispatchFailed));
    }

    [Fact]
    public async Task RecordTooLargeForKafka_KeptAsFailedAfterMaxAttempts_OtherRecordsFlow()
    {
        await using var broker = await StartBrokerAsync(1);
        await broker.CreateTopicAsync(InvoiceTopic, 1);
        var ids = await WriteInvoicesAsync(10);
        string huge;
        await using (var db = CreateDb())
        {
            huge = db.Outbox().Produce(InvoiceTopic, "k", new string('x', 2_000_000));
            await db.SaveChangesAsync();
        }

        ids.AddRange(await WriteInvoicesAsync(10));
        await using var dispatcher = await StartDispatcherAsync(broker, maxAttempts: 3);

        var received = broker.ReadAll(InvoiceTopic, 20, TimeSpan.FromSeconds(30));
        Assert.Equal(ids.Order(), received.Select(MessageIdOf).Order());
        await Eventually.Until(
            // The records read may still be waiting for their deletion: only the oversized one is to be left, as failed.
            async () => await OutboxRowsAsync() is [{ FailedAt: not null }],
            TimeSpan.FromSeconds(30),
            async () => string.Join(", ", (await OutboxRowsAsync()).Select(r => $"{r.MessageId}: {r.Attempts} {r.LastError}")),
            "the oversized record to be kept as failed");
        var kept = Assert.Single(await OutboxRowsAsync());
        Assert.Equal(huge, kept.MessageId);
        Assert.Equal(3, kept.Attempts);
        Assert.Contains("MsgSizeTooLarge", kept.LastError, StringComparison.Ordinal);
    }

    /// <summary>Service A in a process of its own (<see cref="ChainWorker"/>), so that the test can kill it with SIGKILL.</summary>
    private Task<WorkerProcess> StartServiceAProcessAsync(KafkaBroker broker, bool dispatch)
        => WorkerProcess.StartAsync(typeof(ChainWorker).Assembly, "chain-a", broker.BootstrapServers, ConnectionString, Topic, InvoiceTopic, Group, dispatch.ToString());

    private static string MessageIdOf(ConsumeResult<string, string> record) =>
        System.Text.Encoding.UTF8.GetString(record.Message.Headers.GetLastBytes("message-id"));

    private async Task<List<string>> WriteInvoicesAsync(int count)
    {
        await using var db = CreateDb();
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            ids.Add(db.Outbox().Produce(InvoiceTopic, $"k-{i % 5}", new InvoiceCreated($"order-{i}", $"k-{i % 5}", i)));
        }

        await db.SaveChangesAsync();
        return ids;
    }

    private Task<ConsumerHost> StartServiceAAsync(KafkaBroker broker, bool dispatch) =>
        StartConsumerAsync(broker, "service-a", services: s =>
        {
            s.AddSingleton(new HandlerProbe { InvoiceTopic = InvoiceTopic });
            s.AddOutbox<TestDbContext>(o =>
            {
                o.UseKafka(broker.ProducerConfig());
                o.DispatchEnabled = dispatch;
            });
        });

    private async Task<StartedHost> StartServiceBAsync(KafkaBroker broker)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddDbContext<TestDbContext>(o => o.UseNpgsql(ConnectionString));
        builder.Services.AddInbox<TestDbContext>(o => o.PurgeEnabled = false);
        builder.Services.AddInboxKafkaConsumer<TestDbContext, InvoiceCreated, InvoiceCreatedHandler>(o =>
        {
            o.Topics = [InvoiceTopic];
            o.Consumer = broker.ConsumerConfig($"service-b-{Guid.NewGuid():N}");
            o.UseOffsetAsFallbackId = false;
        });
        var host = builder.Build();
        await host.StartAsync();
        return new StartedHost(host);
    }

    /// <summary>Another instance of service A that only dispatches (its consumer reads an empty topic).</summary>
    private async Task<ConsumerHost> StartDispatcherAsync(KafkaBroker broker, int messageTimeoutMs = 30_000, int maxAttempts = 5, int? queueBufferingMaxMessages = null)
    {
        var idle = $"idle-{Guid.NewGuid():N}";
        await broker.CreateTopicAsync(idle, 1);
        return await ConsumerHost.StartAsync(
            ConnectionString,
            Output,
            "dispatcher",
            o =>
            {
                o.Topics = [idle];
                o.Consumer = broker.ConsumerConfig(idle);
            },
            s => s.AddOutbox<TestDbContext>(o =>
            {
                var config = broker.ProducerConfig();
                config.MessageTimeoutMs = messageTimeoutMs;
                config.QueueBufferingMaxMessages = queueBufferingMaxMessages;
                o.UseKafka(config);
                o.MaxAttempts = maxAttempts;
                o.RetryMaxDelay = TimeSpan.FromSeconds(1);
            }));
    }

    private async Task WaitForInvoicesAsync(int expected, TimeSpan timeout)
    {
        await Eventually.Until(
            async () => await InvoiceCountAsync() >= expected,
            timeout,
            async () => $"{await InvoiceCountAsync()} of {expected} invoices; {await OutboxCountAsync()} outbox rows pending",
            "every invoice downstream");
    }

    /// <summary>Every unique order took effect once in A and produced exactly one invoice, recorded once by B.</summary>
    private async Task AssertChainExactlyOnceAsync(List<(string Key, OrderPlaced Message, string Id)> sent)
    {
        var unique = sent.Select(r => r.Id).Distinct().ToHashSet();
        await using var db = CreateDb();
        var invoices = await db.Set<Invoice>().AsNoTracking().ToListAsync();
        var doubled = invoices.GroupBy(i => i.OrderMessageId).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(doubled.Count == 0, $"{doubled.Count} orders have two invoices downstream, e.g. {string.Join(", ", doubled.Take(3))}");
        Assert.Equal(unique.Order(), invoices.Select(i => i.OrderMessageId).Order());
        Assert.Equal(invoices.Count, invoices.Select(i => i.MessageId).Distinct().Count());
        Assert.Equal(unique.Count, await db.Effects.CountAsync());
        Output.WriteLine($"{sent.Count} orders, {unique.Count} unique: {invoices.Count} invoices downstream.");
    }

    private async Task AssertOutboxEmptyAsync() =>
        await Eventually.Until(async () => await OutboxCountAsync() == 0, TimeSpan.FromSeconds(30), async () => $"{await OutboxCountAsync()} rows", "the outbox to empty");

    private async Task<int> InvoiceCountAsync()
    {
        await using var db = CreateDb();
        return await db.Set<Invoice>().CountAsync();
    }

    private async Task<int> OutboxCountAsync() => (await OutboxRowsAsync()).Count;

    private async Task<List<OutboxRow>> OutboxRowsAsync()
    {
        await using var db = CreateDb();
        return await db.Database.SqlQueryRaw<OutboxRow>(
            "SELECT message_id AS \"MessageId\", attempts AS \"Attempts\", last_error AS \"LastError\", failed_at AS \"FailedAt\" FROM outbox_messages").ToListAsync();
    }

    private sealed class OutboxRow
    {
        public string MessageId { get; set; } = "";

        public int Attempts { get; set; }

        public string? LastError { get; set; }

        public DateTimeOffset? FailedAt { get; set; }
    }
}
