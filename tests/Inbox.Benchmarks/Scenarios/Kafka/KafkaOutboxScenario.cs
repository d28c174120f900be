using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Inbox.Benchmarks.Harness;
using Inbox.Kafka;
using Inbox.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Inbox.Benchmarks.Scenarios.Kafka;

/// <summary>
/// The outbox on Kafka (issue 9). An inboxed consumer (batch 100) writes an order row and produces one invoice record per
/// message: straight to Kafka from the handler (the baseline: no outbox) against through the outbox, measured until every
/// invoice is acknowledged by the broker. The dispatcher alone against a plain producer sending the same records. And
/// the commit-to-acknowledgement latency at a light load of 1,000 messages a second, one message per transaction.
/// </summary>
public sealed class KafkaOutboxScenario(bool smoke = false) : IScenario
{
    private const int Partitions = 6;
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(10);
    private readonly Dictionary<int, string> _topics = [];
    private PostgresBench? _bench;
    private KafkaBroker? _broker;

    public string Name => "kafka-outbox";

    public string Description =>
        $"Kafka outbox: consume and produce one record per message, {Partitions} partitions, batch 100; dispatch alone; latency at 1,000 msg/s " +
        $"({(Environment.GetEnvironmentVariable(KafkaBroker.BootstrapVariable) is { Length: > 0 } servers ? $"Kafka at {servers}" : "librdkafka mock cluster unless Docker answers")})";

    public int DefaultMessages => 50_000;

    public async Task<IReadOnlyList<Variant>> SetUpAsync(CancellationToken cancellationToken)
    {
        _bench = await PostgresBench.CreateAsync(o => o.PurgeEnabled = false);
        _broker = await KafkaBroker.StartAsync(m => Console.WriteLine($"   {m}"));
        return
        [
            new("consume + produce directly", (n, ct) => RunChainAsync(n, outbox: false, sharedKeys: false, ct)),
            new("consume + produce via outbox", (n, ct) => RunChainAsync(n, outbox: true, sharedKeys: false, ct), Baseline: "consume + produce directly"),
            new("via outbox, 50 keys in every partition", (n, ct) => RunChainAsync(n, outbox: true, sharedKeys: true, ct), Baseline: "consume + produce directly"),
            new("plain producer", (n, ct) => RunPlainProducerAsync(n, ct)),
            new("outbox dispatch alone", (n, ct) => RunDispatchAloneAsync(n, ct), Baseline: "plain producer"),
            new("outbox at 1,000 msg/s", (n, ct) => RunLatencyAsync(smoke ? 200 : 10_000, ct), Baseline: "outbox at 1,000 msg/s"),
        ];
    }

    private async Task<RoundResult> RunChainAsync(int messages, bool outbox, bool sharedKeys, CancellationToken cancellationToken)
    {
        var orders = await OrdersTopicAsync(messages);
        var invoices = await NewTopicAsync("bench-invoices");
        await _bench!.ResetAsync();
        var group = $"bench-{Guid.NewGuid():N}";
        using var acked = new Acknowledgements(invoices, messages);
        using var direct = outbox ? null : new ProducerBuilder<string, byte[]>(ProducerConfig()).Build();

        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddDbContext<BenchDbContext>(o => o.UseNpgsql(_bench.ConnectionString));
        builder.Services.AddInbox<BenchDbContext>(o => o.PurgeEnabled = false);
        builder.Services.AddSingleton(new InvoiceSink(invoices, direct, acked, sharedKeys));
        builder.Services.AddInboxKafkaConsumer<BenchDbContext, KafkaOrder, InvoicingHandler>(o =>
        {
            o.Topics = [orders];
            o.Consumer = ConsumerConfig(group);
            o.BatchSize = 100;
        });
        if (outbox)
        {
            builder.Services.AddOutbox<BenchDbContext>(o => o.UseKafka(ProducerConfig()));
        }

        using var host = builder.Build();
        var consumed = TimeSpan.Zero;
        long processed = 0;
        using var consumption = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "Inbox" && instrument.Name == "inbox.messages.processed")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        var stopwatch = Stopwatch.StartNew();
        consumption.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            if (Interlocked.Add(ref processed, value) >= messages && consumed == TimeSpan.Zero)
            {
                consumed = stopwatch.Elapsed;
            }
        });
        consumption.Start();
        var cpuBefore = await CpuSample.TakeAsync(_bench.ConnectionString);
        await host.StartAsync(cancellationToken);
        await acked.All.WaitAsync(Deadline, cancellationToken);
        var elapsed = stopwatch.Elapsed;
        var (process, librdkafka, postgres) = (await CpuSample.TakeAsync(_bench.ConnectionString)).Since(cpuBefore);
        await host.StopAsync(cancellationToken);
        var rows = await _bench.CountOrdersAsync();
        var pending = await _bench.ScalarAsync<long>("SELECT count(*) FROM outbox_messages");
        var (statements, _, commits) = await _bench.StatementsAsync();
        var result = new RoundResult(
            messages,
            elapsed,
            rows == messages && acked.Count == messages && pending == 0,
            $"{rows} orders, {acked.Count} invoices acknowledged for {messages} messages, {pending} outbox rows left");
        result.Figures["stmts/msg"] = (double)statements / messages;
        result.Figures["commits/msg"] = (double)commits / messages;
        result.Figures["all committed s"] = consumed.TotalSeconds;
        result.Figures["all acknowledged s"] = elapsed.TotalSeconds;
        result.Figures["cpu app s"] = process - librdkafka;
        result.Figures["cpu rdkafka s"] = librdkafka;
        result.Figures["cpu pg s"] = postgres;
        return result;
    }

    private async Task<RoundResult> RunPlainProducerAsync(int messages, CancellationToken cancellationToken)
    {
        var invoices = await NewTopicAsync("bench-plain");
        using var producer = new ProducerBuilder<string, byte[]>(ProducerConfig()).Build();
        long delivered = 0;
        var stopwatch = Stopwatch.StartNew();
        for (var i = 0; i < messages; i++)
        {
            Produce(producer, invoices, $"k-{i % 50}", Invoice(i), () => Interlocked.Increment(ref delivered));
        }

        producer.Flush(Deadline);
        var elapsed = stopwatch.Elapsed;
        await Task.CompletedTask;
        return new RoundResult(messages, elapsed, Interlocked.Read(ref delivered) == messages, $"{delivered} of {messages} acknowledged");
    }

    private async Task<RoundResult> RunDispatchAloneAsync(int messages, CancellationToken cancellationToken)
    {
        var invoices = await NewTopicAsync("bench-dispatch");
        await _bench!.ResetAsync();

        // Not measured: the rows, committed as an application would write them, 1,000 to a transaction.
        await using (var scope = _bench.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<BenchDbContext>();
            for (var i = 0; i < messages; i++)
            {
                db.Outbox().ProduceBytes(invoices, $"k-{i % 50}", Invoice(i));
                if (i % 1_000 == 999 || i == messages - 1)
                {
                    await db.SaveChangesAsync(cancellationToken);
                    db.ChangeTracker.Clear();
                }
            }
        }

        using var acked = new Acknowledgements(invoices, messages);
        using var host = DispatcherHost();
        var stopwatch = Stopwatch.StartNew();
        await host.StartAsync(cancellationToken);
        await acked.All.WaitAsync(Deadline, cancellationToken);
        var elapsed = stopwatch.Elapsed;
        await host.StopAsync(cancellationToken);
        var pending = await _bench.ScalarAsync<long>("SELECT count(*) FROM outbox_messages");
        return new RoundResult(messages, elapsed, acked.Count == messages && pending == 0, $"{acked.Count} acknowledged of {messages}, {pending} rows left");
    }

    private async Task<RoundResult> RunLatencyAsync(int messages, CancellationToken cancellationToken)
    {
        var invoices = await NewTopicAsync("bench-latency");
        await _bench!.ResetAsync();
        using var acked = new Acknowledgements(invoices, messages);
        using var host = DispatcherHost();
        await host.StartAsync(cancellationToken);

        // One message per transaction, 1,000 a second in all from four writers (one writer alone cannot commit that often here).
        const int writers = 4;
        var stopwatch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(
            async () =>
            {
                for (var i = w; i < messages; i += writers)
                {
                    var due = TimeSpan.FromMilliseconds(i);
                    if (due > stopwatch.Elapsed)
                    {
                        await Task.Delay(due - stopwatch.Elapsed, cancellationToken);
                    }

                    await using var scope = host.Services.CreateAsyncScope();
                    var db = scope.ServiceProvider.GetRequiredService<BenchDbContext>();
                    db.Outbox().ProduceBytes(invoices, $"k-{i % 50}", Invoice(i));
                    await db.SaveChangesAsync(cancellationToken);
                }
            },
            cancellationToken)));

        await acked.All.WaitAsync(Deadline, cancellationToken);
        var elapsed = stopwatch.Elapsed;
        await host.StopAsync(cancellationToken);
        var latencies = acked.Latencies;
        var result = new RoundResult(messages, elapsed, acked.Count == messages, $"{acked.Count} acknowledged of {messages}");
        result.Figures["latency p50 ms"] = Stats.Percentile(latencies, 50) * 1_000;
        result.Figures["latency p99 ms"] = Stats.Percentile(latencies, 99) * 1_000;
        return result;
    }

    private IHost DispatcherHost()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddDbContext<BenchDbContext>(o => o.UseNpgsql(_bench!.ConnectionString));
        builder.Services.AddOutbox<BenchDbContext>(o => o.UseKafka(ProducerConfig()));
        return builder.Build();
    }

    private async Task<string> OrdersTopicAsync(int messages)
    {
        if (!_topics.TryGetValue(messages, out var topic))
        {
            topic = _topics[messages] = await NewTopicAsync($"bench-orders-{messages}");
            OrderTopic.Produce(_broker!, topic, messages, Partitions);
        }

        return topic;
    }

    private async Task<string> NewTopicAsync(string prefix)
    {
        var topic = $"{prefix}-{Guid.NewGuid():N}";
        await _broker!.CreateTopicAsync(topic, Partitions);
        return topic;
    }

    private ProducerConfig ProducerConfig() => new(_broker!.ProducerConfig()) { Acks = Acks.All, EnableIdempotence = true, LingerMs = 5 };

    private ConsumerConfig ConsumerConfig(string group)
    {
        var config = _broker!.ConsumerConfig(group);
        if (!smoke)
        {
            config.SessionTimeoutMs = 10_000;
            config.HeartbeatIntervalMs = 1_000;
        }

        return config;
    }

    private static byte[] Invoice(long orderId) => JsonSerializer.SerializeToUtf8Bytes(new { orderId, amount = 10 }, JsonSerializerOptions.Web);

    private static void Produce(IProducer<string, byte[]> producer, string topic, string key, byte[] value, Action delivered)
    {
        while (true)
        {
            try
            {
                producer.Produce(topic, new Message<string, byte[]> { Key = key, Value = value }, report =>
                {
                    if (!report.Error.IsError)
                    {
                        delivered();
                    }
                });
                return;
            }
            catch (ProduceException<string, byte[]> exception) when (exception.Error.Code == ErrorCode.Local_QueueFull)
            {
                producer.Poll(TimeSpan.FromMilliseconds(50));
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_broker is not null)
        {
            await _broker.DisposeAsync();
        }

        if (_bench is not null)
        {
            await _bench.DisposeAsync();
        }
    }

    /// <summary>
    /// Counts the invoices acknowledged for one topic: the direct producer's delivery reports, or the outbox's
    /// <c>inbox.outbox.dispatched</c> counter, with its commit-to-acknowledgement latencies.
    /// </summary>
    private sealed class Acknowledgements : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly List<double> _latencies = [];
        private readonly string _topic;
        private readonly int _expected;
        private long _count;

        public Acknowledgements(string topic, int expected)
        {
            _topic = topic;
            _expected = expected;
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == "Inbox" && instrument.Name is "inbox.outbox.dispatched" or "inbox.outbox.dispatch_latency")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                if (Mine(tags))
                {
                    Add(value);
                }
            });
            _listener.SetMeasurementEventCallback<double>((_, value, tags, _) =>
            {
                if (Mine(tags))
                {
                    lock (_latencies)
                    {
                        _latencies.Add(value);
                    }
                }
            });
            _listener.Start();
        }

        public Task All => _all.Task;

        public long Count => Interlocked.Read(ref _count);

        public List<double> Latencies
        {
            get
            {
                lock (_latencies)
                {
                    return [.. _latencies];
                }
            }
        }

        public void Add(long value)
        {
            if (Interlocked.Add(ref _count, value) >= _expected)
            {
                _all.TrySetResult();
            }
        }

        public void Dispose() => _listener.Dispose();

        private bool Mine(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "messaging.destination.name" && tag.Value as string == _topic)
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>Where the handler sends its invoice: a direct producer (the baseline), or nowhere but the outbox.</summary>
    private sealed record InvoiceSink(string Topic, IProducer<string, byte[]>? Direct, Acknowledgements Acknowledged, bool SharedKeys);

    /// <summary>Writes the order row and produces an invoice per message, directly or through the outbox.</summary>
    private sealed class InvoicingHandler(BenchDbContext db, InvoiceSink sink) : IInboxHandler<KafkaOrder>
    {
        public Task HandleAsync(KafkaOrder message, InboxMessageContext context, CancellationToken cancellationToken)
        {
            db.Orders.Add(new Order { MessageId = context.MessageId, Amount = message.Amount });
            // One invoice per order, keyed by the order: the usual shape. (Keys that every partition writes at once make
            // their transactions wait on each other's key locks: see docs/benchmarks.md.)
            var key = sink.SharedKeys ? $"k-{message.OrderId % 50}" : $"order-{message.OrderId}";
            if (sink.Direct is { } producer)
            {
                Produce(producer, sink.Topic, key, Invoice(message.OrderId), () => sink.Acknowledged.Add(1));
            }
            else
            {
                context.Outbox.ProduceBytes(sink.Topic, key, Invoice(message.OrderId));
            }

            return Task.CompletedTask;
        }
    }
}
