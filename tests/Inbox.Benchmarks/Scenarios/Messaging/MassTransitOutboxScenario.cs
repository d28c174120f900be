using System.Diagnostics;
using System.Diagnostics.Metrics;
using Inbox.Benchmarks.Harness;
using MassTransit;

namespace Inbox.Benchmarks.Scenarios.Messaging;

/// <summary>
/// The outbox on MassTransit (issue 10): a consumer on RabbitMQ writes an order row and publishes one OrderShipped per
/// message (prefetch 32, concurrency 8). The baseline saves and then publishes directly, with no deduplication; against
/// it, <c>UseInbox</c> with <c>x.AddInboxOutbox</c>, where the publish is an outbox row committed with the write and
/// the dispatcher delivers it. Each round fills its queue first and runs until the broker holds every event (a queue of
/// the round's own is bound to the event's exchange). And the commit-to-acknowledgement latency at 500 messages a second.
/// </summary>
public sealed class MassTransitOutboxScenario(int warmUpMessages = 2_000) : IScenario
{
    private const int PrefetchCount = 32;
    private const int ConcurrentMessageLimit = 8;
    private const int LatencyRate = 500;
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(5);
    private RabbitMqBench? _bench;

    public string Name => "masstransit-outbox";

    public string Description =>
        $"MassTransit on RabbitMQ, consume + publish one event, prefetch {PrefetchCount}, concurrency {ConcurrentMessageLimit}, queue filled first; " +
        $"latency at {LatencyRate} msg/s";

    public int DefaultMessages => 20_000;

    public async Task<IReadOnlyList<Variant>> SetUpAsync(CancellationToken cancellationToken)
    {
        _bench = await RabbitMqBench.StartAsync(
            x =>
            {
                x.AddConsumer<RawPublishingConsumer>();
                x.AddConsumer<InboxPublishingConsumer>();
                x.AddInboxOutbox<BenchDbContext>();
            },
            hosted: true);

        // One uncounted run of each first, so that round 1 does not pay for JIT tiering, pools and channels.
        await RunChainAsync(warmUpMessages, outbox: false, cancellationToken);
        await RunChainAsync(warmUpMessages, outbox: true, cancellationToken);
        return
        [
            new("consume + publish directly", (n, ct) => RunChainAsync(n, outbox: false, ct)),
            new("UseInbox + outbox", (n, ct) => RunChainAsync(n, outbox: true, ct)),
            new($"UseInbox + outbox at {LatencyRate} msg/s", (n, ct) => RunLatencyAsync(Math.Min(n, LatencyRate * 20), ct), Baseline: $"UseInbox + outbox at {LatencyRate} msg/s"),
        ];
    }

    private async Task<RoundResult> RunChainAsync(int deliveries, bool outbox, CancellationToken cancellationToken)
    {
        var bench = _bench!;
        await bench.Postgres.ResetAsync();
        var stream = MessageStream.Create(Guid.NewGuid().ToString("N")[..8], deliveries, duplicateShare: 0);
        var queue = await bench.FillAsync(outbox ? "bench-outbox" : "bench-direct", stream, cancellationToken);
        var events = await bench.BindCounterAsync(bench.Bus.Topology.Message<OrderShipped>().EntityName, "bench-shipped");

        bench.Tracker.Watch(queue, deliveries);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var servers = ServerCpu.Read();
        var endpoint = await bench.ConsumeAsync(queue, (context, e) =>
        {
            e.PrefetchCount = PrefetchCount;
            e.ConcurrentMessageLimit = ConcurrentMessageLimit;
            if (outbox)
            {
                e.UseInbox(context);
                e.ConfigureConsumer<InboxPublishingConsumer>(context);
            }
            else
            {
                e.ConfigureConsumer<RawPublishingConsumer>(context);
            }
        });

        // Until the broker holds every event: for the outbox, the dispatcher's tail counts.
        var deadline = Stopwatch.StartNew();
        uint published;
        while ((published = await bench.CountAsync(events)) < deliveries && deadline.Elapsed < Deadline)
        {
            await Task.Delay(10, cancellationToken);
        }

        var elapsed = Stopwatch.GetElapsedTime(bench.Tracker.FirstTimestamp);
        cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        var (postgresCpu, rabbitCpu) = ServerCpu.Read();
        await bench.Tracker.WaitAsync(TimeSpan.FromSeconds(30));
        await endpoint.StopAsync(cancellationToken);

        var (statements, begins, _) = await bench.Postgres.StatementsAsync();
        var rows = await bench.Postgres.CountOrdersAsync();
        var pending = await bench.Postgres.ScalarAsync<long>("SELECT count(*) FROM outbox_messages");
        var errors = await bench.CountAsync(queue + "_error");
        await bench.DeleteAsync(queue);
        await bench.DeleteAsync(events);

        var check = $"{rows} rows and {published} events for {deliveries} messages, {pending} outbox rows left, {errors} in the error queue";
        var result = new RoundResult(deliveries, elapsed, rows == deliveries && published == deliveries && pending == 0 && errors == 0 && bench.Tracker.Faulted == 0, check);
        result.Figures["statements/msg"] = (double)statements / deliveries;
        result.Figures["BEGIN/msg"] = (double)begins / deliveries;
        result.Figures["app CPU µs/msg"] = cpu.TotalMicroseconds / deliveries;
        result.Figures["postgres CPU µs/msg"] = (postgresCpu - servers.Postgres).TotalMicroseconds / deliveries;
        result.Figures["rabbitmq CPU µs/msg"] = (rabbitCpu - servers.RabbitMq).TotalMicroseconds / deliveries;
        result.Figures["consume p50 ms"] = Stats.Percentile(bench.Tracker.LatenciesMs, 50);
        result.Figures["consume p99 ms"] = Stats.Percentile(bench.Tracker.LatenciesMs, 99);
        return result;
    }

    /// <summary>Orders sent at a steady rate to the consuming endpoint; the outbox's commit-to-acknowledgement latency of each event.</summary>
    private async Task<RoundResult> RunLatencyAsync(int messages, CancellationToken cancellationToken)
    {
        var bench = _bench!;
        await bench.Postgres.ResetAsync();
        var queue = $"bench-latency-{Guid.NewGuid():N}"[..22];
        using var latencies = new DispatchLatencies();
        bench.Tracker.Watch(queue, messages);
        var endpoint = await bench.ConsumeAsync(queue, (context, e) =>
        {
            e.PrefetchCount = PrefetchCount;
            e.ConcurrentMessageLimit = ConcurrentMessageLimit;
            e.UseInbox(context);
            e.ConfigureConsumer<InboxPublishingConsumer>(context);
        });

        var send = await bench.Bus.GetSendEndpoint(new Uri($"queue:{queue}"));
        var run = Guid.NewGuid().ToString("N")[..8];
        var stopwatch = Stopwatch.StartNew();
        for (var i = 0; i < messages; i++)
        {
            var due = TimeSpan.FromSeconds((double)i / LatencyRate);
            if (due > stopwatch.Elapsed)
            {
                await Task.Delay(due - stopwatch.Elapsed, cancellationToken);
            }

            await send.Send(new OrderPlaced($"{run}-{i:D7}"), cancellationToken);
        }

        var deadline = Stopwatch.StartNew();
        while (latencies.Count < messages && deadline.Elapsed < Deadline)
        {
            await Task.Delay(10, cancellationToken);
        }

        var elapsed = stopwatch.Elapsed;
        await bench.Tracker.WaitAsync(TimeSpan.FromSeconds(30));
        await endpoint.StopAsync(cancellationToken);
        var rows = await bench.Postgres.CountOrdersAsync();
        await bench.DeleteAsync(queue);
        var values = latencies.Values;
        var result = new RoundResult(messages, elapsed, values.Count == messages && rows == messages, $"{values.Count} events acknowledged, {rows} rows for {messages} messages");
        result.Figures["latency p50 ms"] = Stats.Percentile(values, 50) * 1_000;
        result.Figures["latency p99 ms"] = Stats.Percentile(values, 99) * 1_000;
        return result;
    }

    public async ValueTask DisposeAsync()
    {
        if (_bench is not null)
        {
            await _bench.DisposeAsync();
        }
    }

    /// <summary>The outbox's <c>inbox.outbox.dispatch_latency</c> for MassTransit rows: commit to the broker's confirm.</summary>
    private sealed class DispatchLatencies : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly List<double> _values = [];

        public DispatchLatencies()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == "Inbox" && instrument.Name == "inbox.outbox.dispatch_latency")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<double>((_, value, _, _) =>
            {
                lock (_values)
                {
                    _values.Add(value);
                }
            });
            _listener.Start();
        }

        public int Count
        {
            get
            {
                lock (_values)
                {
                    return _values.Count;
                }
            }
        }

        public List<double> Values
        {
            get
            {
                lock (_values)
                {
                    return [.. _values];
                }
            }
        }

        public void Dispose() => _listener.Dispose();
    }
}
