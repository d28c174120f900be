using System.Diagnostics;
using Inbox.Benchmarks.Harness;
using Inbox.Benchmarks.Scenarios.Messaging;
using Inbox.RabbitMQ;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;

namespace Inbox.Benchmarks.Scenarios.RabbitMq;

/// <summary>
/// The outbox on Inbox.RabbitMQ: a consumer writes an order row and sends one <see cref="OrderShipped"/> to a second
/// queue per message (prefetch 32, 8 deliveries at once). The baseline (<see cref="RawRabbitMqConsumer"/>) saves, then
/// publishes directly on a channel with publisher confirms, awaits the confirm and acknowledges, with no
/// deduplication; against it, <c>AddInboxRabbitMqConsumer</c> whose handler writes the row and
/// <c>context.Outbox.Send</c> (<see cref="RabbitMqShippingHandler"/>), with <c>o.UseRabbitMq(...)</c> dispatching
/// after the commit; and the same with <c>commitOrder: true</c>, whose writers of the one queue commit one at a time.
/// As <see cref="MassTransitOutboxScenario"/>: each run fills its queue first; the clock runs from the
/// first delivery's start until the second queue holds a message for every unique ID and the outbox table is empty, so
/// the dispatcher's tail counts. Afterwards the second queue is drained and checked: one message per unique order key,
/// no message_id twice.
/// </summary>
/// <param name="warmUpMessages">The size of the uncounted run of each consumer before the rounds.</param>
public sealed class RabbitMqOutboxScenario(int warmUpMessages = 2_000) : IScenario
{
    private const ushort PrefetchCount = 32;
    private const ushort Concurrency = 8;
    private const string Direct = "consume + publish directly";
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(5);
    private RabbitMqQueues? _queues;
    private PostgresBench? _postgres;

    /// <summary>Makes a variant's consumer, not started, for a run's queue, the queue it sends to, and the clock.</summary>
    private delegate IQueueConsumer NewConsumer(string queue, string shipped, DeliveryClock clock);

    public string Name => "rabbitmq-outbox";

    public string Description =>
        $"Inbox.RabbitMQ on RabbitMQ.Client, consume + send one message to a second queue, prefetch {PrefetchCount}, concurrency {Concurrency}, queue filled first";

    public int DefaultMessages => 20_000;

    public async Task<IReadOnlyList<Variant>> SetUpAsync(CancellationToken cancellationToken)
    {
        _postgres = await PostgresBench.CreateAsync(o => o.PurgeEnabled = false);
        _queues = await RabbitMqQueues.ConnectAsync();

        // One uncounted run of each first, so that round 1 does not pay for JIT tiering, pools and connections.
        await RunAsync(warmUpMessages, DirectConsumer, cancellationToken);
        await RunAsync(warmUpMessages, (q, s, c) => OutboxConsumer(q, s, c, commitOrder: false), cancellationToken);
        return
        [
            new(Direct, (n, ct) => RunAsync(n, DirectConsumer, ct)),
            new("Inbox.RabbitMQ + outbox", (n, ct) => RunAsync(n, (q, s, c) => OutboxConsumer(q, s, c, commitOrder: false), ct), Baseline: Direct),
            new("Inbox.RabbitMQ + outbox, commitOrder", (n, ct) => RunAsync(n, (q, s, c) => OutboxConsumer(q, s, c, commitOrder: true), ct), Baseline: Direct),
        ];
    }

    private IQueueConsumer DirectConsumer(string queue, string shipped, DeliveryClock clock) =>
        new RawRabbitMqConsumer(_postgres!.Services, _queues!.Broker, queue, PrefetchCount, Concurrency, clock, publishTo: shipped);

    /// <param name="commitOrder">Whether the handler's sends keep commit order across overlapping transactions (a key lock each).</param>
    private IQueueConsumer OutboxConsumer(string queue, string shipped, DeliveryClock clock, bool commitOrder)
    {
        var broker = _queues!.Broker;
        return InboxConsumerHost.Create<RabbitMqShippingHandler>(
            _postgres!,
            broker,
            queue,
            clock,
            o =>
            {
                o.PrefetchCount = PrefetchCount;
                o.MaxConcurrency = Concurrency;
            },
            services: s =>
            {
                s.AddSingleton(new ShippingQueue(shipped, commitOrder));
                s.AddOutbox<BenchDbContext>(o => o.UseRabbitMq(new ConnectionFactory { Uri = broker }));
            });
    }

    private async Task<RoundResult> RunAsync(int deliveries, NewConsumer newConsumer, CancellationToken cancellationToken)
    {
        var (postgres, queues) = (_postgres!, _queues!);
        await postgres.ResetAsync();
        var stream = MessageStream.Create(Guid.NewGuid().ToString("N")[..8], deliveries, duplicateShare: 0);
        var unique = stream.Distinct().Count();
        var queue = await queues.FillAsync("rmq-orders", stream, cancellationToken);
        var shipped = await queues.DeclareAsync("rmq-shipped", cancellationToken);

        var clock = new DeliveryClock(deliveries);
        var consumer = newConsumer(queue, shipped, clock);
        TimeSpan elapsed, cpu;
        (TimeSpan Postgres, TimeSpan RabbitMq) servers;
        await using (consumer)
        {
            cpu = Process.GetCurrentProcess().TotalProcessorTime;
            servers = ServerCpu.Read();
            var deadline = Stopwatch.StartNew();
            await consumer.StartAsync(cancellationToken);

            // Until the second queue holds a message per unique ID and no outbox row is left: the dispatcher's tail counts.
            while ((await queues.CountAsync(shipped, cancellationToken) < unique || await PendingAsync(postgres) > 0)
                && deadline.Elapsed < Deadline && clock.Faults == 0)
            {
                await Task.Delay(10, cancellationToken);
            }

            elapsed = Stopwatch.GetElapsedTime(clock.FirstTimestamp);
            cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
            var (postgresCpu, rabbitCpu) = ServerCpu.Read();
            servers = (postgresCpu - servers.Postgres, rabbitCpu - servers.RabbitMq);
            await clock.WaitAsync(TimeSpan.FromSeconds(30));
        }

        var (statements, begins, _) = await postgres.StatementsAsync();
        var rows = await postgres.CountOrdersAsync();
        var pending = await PendingAsync(postgres);
        var left = await queues.CountAsync(queue, cancellationToken);
        var deadLetters = await queues.CountAsync(queue + ".dead-letter", cancellationToken);
        var sent = await queues.DrainAsync(shipped, cancellationToken);
        await queues.DeleteAsync(queue, queue + ".dead-letter", shipped);

        // Redeliveries do not happen in a run without failures; if one did, the inbox would send nothing for it again,
        // and a repeated dispatch would repeat the row's message_id: both would show here.
        var orderKeys = sent.Select(m => m.OrderKey).Distinct().Count();
        var messageIds = sent.Select(m => m.MessageId).Distinct().Count();
        var check = $"{rows} rows and {sent.Count} sent ({orderKeys} order keys, {messageIds} message IDs) for {unique} unique IDs, " +
            $"{pending} outbox rows left, {left} left in the queue, {deadLetters} dead-lettered" +
            (clock.Faults > 0 ? $", {clock.Faults} failed ({clock.FirstError})" : "") +
            (clock.Count < deliveries ? $"; {clock.Count} of {deliveries} deliveries settled" : "");
        var correct = rows == unique && sent.Count == unique && orderKeys == unique && messageIds == unique
            && pending == 0 && left == 0 && deadLetters == 0 && clock.Faults == 0 && clock.Count == deliveries;
        var result = new RoundResult(deliveries, elapsed, correct, check);
        result.Figures["statements/msg"] = (double)statements / deliveries;
        result.Figures["BEGIN/msg"] = (double)begins / deliveries;
        result.Figures["app CPU µs/msg"] = cpu.TotalMicroseconds / deliveries;
        result.Figures["postgres CPU µs/msg"] = servers.Postgres.TotalMicroseconds / deliveries;
        result.Figures["rabbitmq CPU µs/msg"] = servers.RabbitMq.TotalMicroseconds / deliveries;
        result.Figures["consumed s"] = clock.Elapsed.TotalSeconds;
        result.Figures["all sent s"] = elapsed.TotalSeconds;
        return result;
    }

    private static Task<long> PendingAsync(PostgresBench postgres) => postgres.ScalarAsync<long>("SELECT count(*) FROM outbox_messages");

    public async ValueTask DisposeAsync()
    {
        if (_queues is not null)
        {
            await _queues.DisposeAsync();
        }

        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }
    }
}
