using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Inbox.Benchmarks.Harness;
using Inbox.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Inbox.Benchmarks.Scenarios.Kafka;

/// <summary>
/// Scenario 3: Kafka, a topic of 6 partitions holding N JSON messages with unique IDs in a <c>MessageId</c> header,
/// produced once before any consumer starts. Every run is a fresh consumer group reading that topic from the beginning
/// into freshly truncated tables. Raw: <see cref="RawKafkaConsumer"/> (same per-partition batching and business rows,
/// no dedup). Inbox: <c>AddInboxKafkaConsumer</c> in a host, at batch 1, 100 and 500, each against raw at its batch size.
/// </summary>
public sealed class KafkaScenario(bool smoke = false) : IScenario
{
    private const int Partitions = 6;

    /// <summary>One transaction per message is two orders of magnitude slower: batch 1 reads a topic of its own, this long at most.</summary>
    private const int BatchOneMessages = 10_000;

    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(10);
    private readonly int _maxConcurrentBatches = Environment.ProcessorCount;
    private readonly Dictionary<(int Messages, bool WithIds), string> _topics = [];
    private PostgresBench? _bench;
    private PostgresBench? _generations;
    private KafkaBroker? _broker;

    public string Name => "kafka";

    public string Description =>
        $"Kafka consumer, {Partitions} partitions, unique IDs, fresh group per run, {_maxConcurrentBatches} concurrent batches " +
        $"({(Environment.GetEnvironmentVariable(KafkaBroker.BootstrapVariable) is { Length: > 0 } servers ? $"Kafka at {servers}" : "librdkafka mock cluster unless Docker answers")})";

    public int DefaultMessages => 100_000;

    public async Task<IReadOnlyList<Variant>> SetUpAsync(CancellationToken cancellationToken)
    {
        _bench = await PostgresBench.CreateAsync(o => o.PurgeEnabled = false);
        _generations = await PostgresBench.CreateAsync(o => o.PurgeEnabled = false, retention: InboxRetention.Generations);
        _broker = await KafkaBroker.StartAsync(m => Console.WriteLine($"   {m}"));
        return
        [
            new("raw batch 100", (n, ct) => RunRawAsync(n, 100, ct)),
            new("inbox batch 100", (n, ct) => RunInboxAsync(n, 100, ct), Baseline: "raw batch 100"),
            new("inbox batch 100, generations", (n, ct) => RunInboxAsync(n, 100, ct, _generations), Baseline: "raw batch 100"),
            new("inbox batch 100, offset IDs, database offsets", (n, ct) => RunInboxAsync(n, 100, ct, byOffset: true), Baseline: "raw batch 100"),
            new("raw batch 500", (n, ct) => RunRawAsync(n, 500, ct)),
            new("inbox batch 500", (n, ct) => RunInboxAsync(n, 500, ct), Baseline: "raw batch 500"),
            new("raw batch 1", (n, ct) => RunRawAsync(n, 1, ct)),
            new("inbox batch 1", (n, ct) => RunInboxAsync(n, 1, ct), Baseline: "raw batch 1"),
        ];
    }

    private async Task<RoundResult> RunRawAsync(int messages, int batchSize, CancellationToken cancellationToken)
    {
        messages = batchSize == 1 ? Math.Min(messages, BatchOneMessages) : messages;
        var run = await StartRunAsync(messages);
        var raw = new RawKafkaConsumer(_bench!.Services, run.Config, run.Topic, batchSize, _maxConcurrentBatches);

        // Measured: from the consumer's start (subscribe, group join, fetch) until the rows of every message are committed.
        var stopwatch = Stopwatch.StartNew();
        var allCommitted = new TaskCompletionSource<(TimeSpan, CpuSample)>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(Deadline);
        await raw.RunAsync(committed => committed >= messages && Finish(allCommitted, stopwatch), deadline.Token);
        var (elapsed, cpu) = await allCommitted.Task;
        return await CheckAsync(messages, elapsed, run, cpu, inbox: false);
    }

    /// <param name="byOffset">
    /// Records without an ID header, known by their offset, with the offsets kept in the database: the configuration in
    /// which the offset row proves what was processed and no inbox record is written.
    /// </param>
    private async Task<RoundResult> RunInboxAsync(int messages, int batchSize, CancellationToken cancellationToken, PostgresBench? bench = null, bool byOffset = false)
    {
        bench ??= _bench!;
        messages = batchSize == 1 ? Math.Min(messages, BatchOneMessages) : messages;
        var run = await StartRunAsync(messages, bench, withIds: !byOffset);

        // The inbox counts a message as processed once its transaction committed; count this run's group only.
        var allCommitted = new TaskCompletionSource<(TimeSpan, CpuSample)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stopwatch = new Stopwatch();
        using var counter = new HandledCounter(run.Group, total =>
        {
            if (total >= messages)
            {
                Finish(allCommitted, stopwatch, bench);
            }
        });

        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddDbContext<BenchDbContext>(o => o.UseNpgsql(bench.ConnectionString)
            .ReplaceService<Microsoft.EntityFrameworkCore.Infrastructure.IModelCacheKeyFactory, BenchModelCacheKeys>());
        builder.Services.AddInbox<BenchDbContext>(o => o.PurgeEnabled = false);
        builder.Services.AddInboxKafkaConsumer<BenchDbContext, KafkaOrder, KafkaOrderHandler>(o =>
        {
            o.Topics = [run.Topic];
            o.Consumer = run.Config;
            o.BatchSize = batchSize;
            o.MaxConcurrentBatches = _maxConcurrentBatches;
            o.StoreOffsetsInDatabase = byOffset;
        });
        using var host = builder.Build();

        // Measured: from the consumer's start (subscribe, group join, fetch) until every message's transaction committed.
        stopwatch.Start();
        await host.StartAsync(cancellationToken);
        var (elapsed, cpu) = await allCommitted.Task.WaitAsync(Deadline, cancellationToken);
        await host.StopAsync(cancellationToken);
        return await CheckAsync(messages, elapsed, run, cpu, inbox: true, bench);
    }

    /// <summary>Stops the clock once; the CPU sample is taken off the thread that saw the last commit.</summary>
    private bool Finish(TaskCompletionSource<(TimeSpan, CpuSample)> allCommitted, Stopwatch stopwatch, PostgresBench? bench = null)
    {
        var elapsed = stopwatch.Elapsed;
        var connectionString = (bench ?? _bench!).ConnectionString;
        _ = Task.Run(async () => allCommitted.TrySetResult((elapsed, await CpuSample.TakeAsync(connectionString))));
        return true;
    }

    /// <summary>Produces a topic of this size on its first run (not measured), truncates the tables, and gives a fresh group.</summary>
    private async Task<Run> StartRunAsync(int messages, PostgresBench? bench = null, bool withIds = true)
    {
        bench ??= _bench!;
        if (!_topics.TryGetValue((messages, withIds), out var topic))
        {
            topic = _topics[(messages, withIds)] = $"bench-orders-{messages}{(withIds ? "" : "-noid")}-{Guid.NewGuid():N}";
            await _broker!.CreateTopicAsync(topic, Partitions);
            OrderTopic.Produce(_broker, topic, messages, Partitions, withIds);
        }

        await bench.ResetAsync();
        var group = $"bench-{Guid.NewGuid():N}";
        var config = _broker!.ConsumerConfig(group);
        if (!smoke)
        {
            // The fixture's 2 s session suits tests on an idle machine; a saturated benchmark keeps the defaults'
            // margin. The smoke run keeps 2 s: a join or leave then settles in 1-4 s on the mock (kafka.md).
            config.SessionTimeoutMs = 10_000;
            config.HeartbeatIntervalMs = 1_000;
        }

        return new Run(topic, group, config, await CpuSample.TakeAsync(bench.ConnectionString));
    }

    private async Task<RoundResult> CheckAsync(int messages, TimeSpan elapsed, Run run, CpuSample end, bool inbox, PostgresBench? bench = null)
    {
        bench ??= _bench!;
        var (statements, _, _) = await bench.StatementsAsync();
        var rows = await bench.CountOrdersAsync();
        var distinct = await bench.ScalarAsync<long>("SELECT count(DISTINCT \"MessageId\") FROM orders");

        // Every ID is unique: the inbox must write one row per message, and so must raw when nothing is redelivered.
        var result = new RoundResult(
            messages,
            elapsed,
            rows == messages && distinct == messages,
            $"{rows} rows, {distinct} distinct IDs for {messages} unique messages{(inbox ? "" : " (no dedup)")}");
        var (process, librdkafka, postgres) = end.Since(run.Cpu);
        result.Figures["stmts/msg"] = (double)statements / messages;
        result.Figures["cpu app s"] = process - librdkafka;
        result.Figures["cpu rdkafka s"] = librdkafka;
        result.Figures["cpu pg s"] = postgres;
        return result;
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

        if (_generations is not null)
        {
            await _generations.DisposeAsync();
        }
    }

    private sealed record Run(string Topic, string Group, ConsumerConfig Config, CpuSample Cpu);
}
