using System.Diagnostics;
using Inbox.Benchmarks.Harness;
using Inbox.Benchmarks.Scenarios.Messaging;
using Inbox.RabbitMQ;

namespace Inbox.Benchmarks.Scenarios.RabbitMq;

/// <summary>
/// Inbox.RabbitMQ (the consumer on plain RabbitMQ.Client, without MassTransit) against a raw RabbitMQ.Client consumer
/// doing the same order-row write with its own <c>SaveChanges</c> and no deduplication, per message, prefetch 32, 8
/// deliveries at once for every variant; with a share of copies published under the same <c>message_id</c> (a
/// producer's retry) for <c>rabbitmq-dup</c>. Measured as <see cref="MassTransitScenario"/> measures MassTransit on the
/// same broker and database: each run first fills a queue of its own with every delivery, then starts the consumer on
/// it; the clock runs from the first delivery's start to the last delivery settled (raw: acknowledged; inbox: committed,
/// as processed or duplicate), so it measures the consumer alone and every variant starts from the same full queue.
/// Variants: the raw consumer (<see cref="RawRabbitMqConsumer"/>); <c>AddInboxRabbitMqConsumer</c> with the default
/// inbox options; and with <see cref="InboxOptions.OneRoundTrip"/>, looking an ID up only for a redelivered message.
/// A variant is a name and a consumer made for a run's queue (<see cref="NewConsumer"/>). With <c>batch</c>
/// (<c>rabbitmq-batch</c>): the consumer's batch mode, 100 a batch, two batches at once, prefetch 300, against a raw
/// consumer batching the same way (<see cref="RawRabbitMqBatchConsumer"/>: one SaveChanges per batch).
/// </summary>
/// <param name="batch">Whether to run the batch variants.</param>
/// <param name="duplicateShare">The share of deliveries that are copies of an earlier message.</param>
/// <param name="warmUpMessages">The size of the uncounted run of each consumer before the rounds.</param>
public sealed class RabbitMqScenario(bool batch = false, double duplicateShare = 0, int warmUpMessages = 2_000) : IScenario
{
    private const ushort PrefetchCount = 32;
    private const ushort Concurrency = 8;
    private const int BatchSize = 100;

    // Two batches in the database at once suits two cores; the prefetch holds a third filling behind them.
    private const int BatchConcurrency = 2;
    private const ushort BatchPrefetchCount = BatchSize * (BatchConcurrency + 1);
    private const string Raw = "raw RabbitMQ.Client";
    private const string RawBatch = "raw batch 100";
    private RabbitMqQueues? _queues;
    private PostgresBench? _postgres;

    /// <summary>Makes a variant's consumer, not started, for a run's queue and clock.</summary>
    private delegate IQueueConsumer NewConsumer(string queue, DeliveryClock clock);

    public string Name => batch ? "rabbitmq-batch" : duplicateShare > 0 ? "rabbitmq-dup" : "rabbitmq";

    public string Description => batch
        ? $"Inbox.RabbitMQ batch mode on RabbitMQ.Client, {BatchSize} a batch, {BatchConcurrency} batches at once, prefetch {BatchPrefetchCount}, queue filled first"
        : $"Inbox.RabbitMQ on RabbitMQ.Client, prefetch {PrefetchCount}, concurrency {Concurrency}, {duplicateShare:P0} copies, queue filled first";

    public int DefaultMessages => 20_000;

    public async Task<IReadOnlyList<Variant>> SetUpAsync(CancellationToken cancellationToken)
    {
        _postgres = await PostgresBench.CreateAsync(o => o.PurgeEnabled = false);
        _queues = await RabbitMqQueues.ConnectAsync();

        // One uncounted run of each consumer first, so that round 1 does not pay for JIT tiering, pools and connections.
        if (batch)
        {
            await RunAsync(warmUpMessages, RawBatchConsumer, inbox: false, cancellationToken);
            await RunAsync(warmUpMessages, InboxConsumer(consumer: Batched), inbox: true, cancellationToken);
            return
            [
                new(RawBatch, (n, ct) => RunAsync(n, RawBatchConsumer, inbox: false, ct)),
                new("Inbox.RabbitMQ batch 100", (n, ct) => RunAsync(n, InboxConsumer(consumer: Batched), inbox: true, ct), Baseline: RawBatch),
            ];
        }

        await RunAsync(warmUpMessages, RawConsumer, inbox: false, cancellationToken);
        await RunAsync(warmUpMessages, InboxConsumer(), inbox: true, cancellationToken);
        return
        [
            new(Raw, (n, ct) => RunAsync(n, RawConsumer, inbox: false, ct)),
            new("Inbox.RabbitMQ", (n, ct) => RunAsync(n, InboxConsumer(), inbox: true, ct), Baseline: Raw),
            new(
                "Inbox.RabbitMQ, OneRoundTrip, lookup when redelivered",
                (n, ct) => RunAsync(n, InboxConsumer(inbox: OneRoundTripWhenRedelivered), inbox: true, ct),
                Baseline: Raw),
        ];
    }

    private IQueueConsumer RawConsumer(string queue, DeliveryClock clock) =>
        new RawRabbitMqConsumer(_postgres!.Services, _queues!.Broker, queue, PrefetchCount, Concurrency, clock);

    /// <param name="consumer">The variant's consumer options; null for <see cref="PerMessage"/>.</param>
    /// <param name="inbox">The variant's inbox options; null for the defaults.</param>
    private NewConsumer InboxConsumer(Action<InboxRabbitMqConsumerOptions<OrderPlaced>>? consumer = null, Action<InboxOptions>? inbox = null) => (queue, clock) =>
        InboxConsumerHost.Create<RabbitMqOrderHandler>(_postgres!, _queues!.Broker, queue, clock, consumer ?? PerMessage, inbox);

    private static void OneRoundTripWhenRedelivered(InboxOptions o)
    {
        o.OneRoundTrip = true;
        o.OneRoundTripLookup = InboxLookup.WhenRedelivered;
    }

    private IQueueConsumer RawBatchConsumer(string queue, DeliveryClock clock) =>
        new RawRabbitMqBatchConsumer(_postgres!.Services, _queues!.Broker, queue, BatchPrefetchCount, BatchSize, BatchConcurrency, clock);

    private static void Batched(InboxRabbitMqConsumerOptions<OrderPlaced> o)
    {
        o.PrefetchCount = BatchPrefetchCount;
        o.BatchSize = BatchSize;
        o.MaxConcurrency = BatchConcurrency;
    }

    private static void PerMessage(InboxRabbitMqConsumerOptions<OrderPlaced> o)
    {
        o.PrefetchCount = PrefetchCount;
        o.MaxConcurrency = Concurrency;
    }

    /// <param name="inbox">Whether the consumer deduplicates: its rows are then one per unique ID, else one per delivery.</param>
    private async Task<RoundResult> RunAsync(int deliveries, NewConsumer newConsumer, bool inbox, CancellationToken cancellationToken)
    {
        var (postgres, queues) = (_postgres!, _queues!);
        await postgres.ResetAsync();
        var stream = MessageStream.Create(Guid.NewGuid().ToString("N")[..8], deliveries, duplicateShare);
        var unique = stream.Distinct().Count();
        var queue = await queues.FillAsync(inbox ? "rmq-inbox" : "rmq-raw", stream, cancellationToken);

        var clock = new DeliveryClock(deliveries);
        var consumer = newConsumer(queue, clock);
        bool finished;
        TimeSpan cpu;
        (TimeSpan Postgres, TimeSpan RabbitMq) servers;
        await using (consumer)
        {
            cpu = Process.GetCurrentProcess().TotalProcessorTime;
            servers = ServerCpu.Read();
            await consumer.StartAsync(cancellationToken);
            finished = await clock.WaitAsync(TimeSpan.FromSeconds(60 + (deliveries / 100.0)));
            cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
            var (postgresCpu, rabbitCpu) = ServerCpu.Read();
            servers = (postgresCpu - servers.Postgres, rabbitCpu - servers.RabbitMq);
        }

        var (statements, begins, _) = await postgres.StatementsAsync();
        var rows = await postgres.CountOrdersAsync();
        var left = await queues.CountAsync(queue);
        var deadLetters = await queues.CountAsync(queue + ".dead-letter");
        await queues.DeleteAsync(queue, queue + ".dead-letter");

        var expected = inbox ? unique : deliveries;
        var check = $"{rows} rows for {(inbox ? $"{unique} unique IDs" : $"{deliveries} deliveries (no dedup)")}, {left} left in the queue, {deadLetters} dead-lettered" +
            (clock.Faults > 0 ? $", {clock.Faults} failed ({clock.FirstError})" : "") +
            (finished ? "" : $"; timed out after {clock.Count} of {deliveries} deliveries");
        var result = new RoundResult(deliveries, clock.Elapsed, finished && rows == expected && left == 0 && deadLetters == 0 && clock.Faults == 0, check);
        result.Figures["statements/msg"] = (double)statements / deliveries;
        result.Figures["BEGIN/msg"] = (double)begins / deliveries;
        result.Figures["app CPU µs/msg"] = cpu.TotalMicroseconds / deliveries;
        result.Figures["postgres CPU µs/msg"] = servers.Postgres.TotalMicroseconds / deliveries;
        result.Figures["rabbitmq CPU µs/msg"] = servers.RabbitMq.TotalMicroseconds / deliveries;
        return result;
    }

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
