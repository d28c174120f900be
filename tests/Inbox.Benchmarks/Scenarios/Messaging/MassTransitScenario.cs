using System.Diagnostics;
using Inbox.Benchmarks.Harness;
using MassTransit;

namespace Inbox.Benchmarks.Scenarios.Messaging;

/// <summary>
/// Scenarios 1 and 2: a MassTransit 8.5 bus on RabbitMQ with one consumer writing an order row per message, raw
/// (its own SaveChanges, no deduplication) against <c>e.UseInbox(context)</c>; per message (prefetch 32,
/// concurrency 8) or as a batch consumer (100 a batch).
/// Each run first fills a queue of its own with every delivery, then connects the consumer to it: the clock runs
/// from the first delivery's start to the last delivery's end, so it measures the consumer alone, not the
/// publisher, and both variants start from the same full queue.
/// </summary>
public sealed class MassTransitScenario(bool batch, double duplicateShare = 0, int warmUpMessages = 2_000) : IScenario
{
    private const int PrefetchCount = 32;
    private const int ConcurrentMessageLimit = 8;
    private const int BatchSize = 100;

    // Two batches in the database at once suits two cores; the prefetch holds a third batch filling behind them.
    private const int BatchConcurrency = 2;
    private const int BatchPrefetchCount = BatchSize * (BatchConcurrency + 1);
    private static readonly TimeSpan BatchTimeLimit = TimeSpan.FromMilliseconds(50);

    private RabbitMqBench? _bench;

    public string Name => batch ? "masstransit-batch" : duplicateShare > 0 ? "masstransit-dup" : "masstransit";

    public string Description => batch
        ? $"MassTransit batch consumer on RabbitMQ, {BatchSize} a batch, {BatchConcurrency} batches at once, prefetch {BatchPrefetchCount}, queue filled first"
        : $"MassTransit on RabbitMQ, prefetch {PrefetchCount}, concurrency {ConcurrentMessageLimit}, {duplicateShare:P0} copies, queue filled first";

    public int DefaultMessages => 20_000;

    public async Task<IReadOnlyList<Variant>> SetUpAsync(CancellationToken cancellationToken)
    {
        _bench = await RabbitMqBench.StartAsync(x =>
        {
            x.AddConsumer<RawOrderConsumer>();
            x.AddConsumer<InboxOrderConsumer>();
            x.AddConsumer<RawOrderBatchConsumer>();
            x.AddConsumer<InboxOrderBatchConsumer>();
        });

        // One uncounted run of each variant first, so that round 1 does not pay for JIT tiering, pools and channels.
        await RunAsync(warmUpMessages, inbox: false, cancellationToken);
        await RunAsync(warmUpMessages, inbox: true, cancellationToken);
        return batch
            ? [new($"raw batch {BatchSize}", (n, ct) => RunAsync(n, inbox: false, ct)), new($"UseInbox batch {BatchSize}", (n, ct) => RunAsync(n, inbox: true, ct))]
            :
            [
                new("raw SaveChanges", (n, ct) => RunAsync(n, inbox: false, ct)),
                new("UseInbox", (n, ct) => RunAsync(n, inbox: true, ct)),
                new("UseInbox, OneRoundTrip", (n, ct) => RunOneRoundTripAsync(n, InboxLookup.Always, ct), Baseline: "raw SaveChanges"),
                new("UseInbox, OneRoundTrip, lookup when redelivered", (n, ct) => RunOneRoundTripAsync(n, InboxLookup.WhenRedelivered, ct), Baseline: "raw SaveChanges"),
            ];
    }

    private async Task<RoundResult> RunOneRoundTripAsync(int deliveries, InboxLookup lookup, CancellationToken cancellationToken)
    {
        _bench!.UseOneRoundTrip(true, lookup);
        try
        {
            return await RunAsync(deliveries, inbox: true, cancellationToken);
        }
        finally
        {
            _bench.UseOneRoundTrip(false);
        }
    }

    private async Task<RoundResult> RunAsync(int deliveries, bool inbox, CancellationToken cancellationToken)
    {
        var bench = _bench!;
        await bench.Postgres.ResetAsync();
        var stream = MessageStream.Create(Guid.NewGuid().ToString("N")[..8], deliveries, duplicateShare);
        var unique = stream.Distinct().Count();
        var queue = await bench.FillAsync(inbox ? "bench-inbox" : "bench-raw", stream, cancellationToken);

        bench.Tracker.Watch(queue, deliveries);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var servers = ServerCpu.Read();
        var endpoint = await bench.ConsumeAsync(queue, (context, e) => Configure(context, e, inbox));
        var finished = await bench.Tracker.WaitAsync(TimeSpan.FromSeconds(60 + (deliveries / 100.0)));
        cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        var (postgresCpu, rabbitCpu) = ServerCpu.Read();
        await endpoint.StopAsync(cancellationToken);

        var (statements, begins, _) = await bench.Postgres.StatementsAsync();
        var rows = await bench.Postgres.CountOrdersAsync();
        var errors = await bench.CountAsync(queue + "_error");
        await bench.DeleteAsync(queue);

        var expected = inbox ? unique : deliveries;
        var check = $"{rows} rows for {(inbox ? $"{unique} unique IDs" : $"{deliveries} deliveries (no dedup)")}, {errors} in the error queue" +
            (finished ? "" : $"; timed out after {bench.Tracker.Consumed + bench.Tracker.Faulted} of {deliveries} deliveries");
        var result = new RoundResult(deliveries, bench.Tracker.Elapsed, finished && rows == expected && errors == 0 && bench.Tracker.Faulted == 0, check);
        var latencies = bench.Tracker.LatenciesMs;
        result.Figures["statements/msg"] = (double)statements / deliveries;
        result.Figures["BEGIN/msg"] = (double)begins / deliveries;
        result.Figures["app CPU µs/msg"] = cpu.TotalMicroseconds / deliveries;
        result.Figures["postgres CPU µs/msg"] = (postgresCpu - servers.Postgres).TotalMicroseconds / deliveries;
        result.Figures["rabbitmq CPU µs/msg"] = (rabbitCpu - servers.RabbitMq).TotalMicroseconds / deliveries;
        result.Figures["p50 ms"] = Stats.Percentile(latencies, 50);
        result.Figures["p99 ms"] = Stats.Percentile(latencies, 99);
        return result;
    }

    private void Configure(IBusRegistrationContext context, IRabbitMqReceiveEndpointConfigurator e, bool inbox)
    {
        if (inbox)
        {
            e.UseInbox(context);
        }

        if (!batch)
        {
            e.PrefetchCount = PrefetchCount;
            e.ConcurrentMessageLimit = ConcurrentMessageLimit;
            if (inbox)
            {
                e.ConfigureConsumer<InboxOrderConsumer>(context);
            }
            else
            {
                e.ConfigureConsumer<RawOrderConsumer>(context);
            }

            return;
        }

        e.PrefetchCount = BatchPrefetchCount;
        void Options(BatchOptions o) => o.SetMessageLimit(BatchSize).SetTimeLimit(BatchTimeLimit).SetConcurrencyLimit(BatchConcurrency);
        if (inbox)
        {
            e.ConfigureConsumer<InboxOrderBatchConsumer>(context, c => c.Options<BatchOptions>(Options));
        }
        else
        {
            e.ConfigureConsumer<RawOrderBatchConsumer>(context, c => c.Options<BatchOptions>(Options));
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_bench is not null)
        {
            await _bench.DisposeAsync();
        }
    }
}
