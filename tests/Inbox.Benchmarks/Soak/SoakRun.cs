using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Inbox.Benchmarks.Harness;
using Inbox.Benchmarks.Scenarios;
using Inbox.Benchmarks.Scenarios.Kafka;
using Inbox.Kafka;
using Inbox.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Inbox.Benchmarks.Soak;

/// <summary>How a soak runs: how many records, how fast they are produced, the window, the purge and the sampling.</summary>
public sealed record SoakSettings(
    int Messages = 1_000_000,
    int Rate = 3_000,
    double DuplicateShare = 0.10,
    int Partitions = 6,
    int BatchSize = 100,
    TimeSpan? Window = null,
    TimeSpan? PurgeInterval = null,
    TimeSpan? SampleEvery = null,
    bool Autovacuum = true)
{
    public TimeSpan DeduplicationWindow => Window ?? TimeSpan.FromMinutes(1);

    public TimeSpan Purge => PurgeInterval ?? TimeSpan.FromSeconds(10);

    public TimeSpan Sample => SampleEvery ?? TimeSpan.FromSeconds(10);
}

/// <summary>One sample: the time since the start, the counts so far, the rate and latency since the last sample, the inbox's size.</summary>
public sealed record SoakSample(double Seconds, long Produced, long Handled, double PerSecond, double P50Ms, double P99Ms, double MaxMs, long InboxRows, double InboxMb, long Generation, long Autovacuums, double AppCores, double LibrdkafkaCores, double PostgresCores);

/// <summary>One retention mode's soak: its samples, per-minute figures and whether every ID took effect exactly once.</summary>
public sealed record SoakResult(string Retention, IReadOnlyList<SoakSample> Samples, IReadOnlyList<SoakMinute> Minutes, long Unique, long Rows, long Distinct)
{
    public bool Correct => Rows == Unique && Distinct == Unique;
}

/// <summary>Throughput and produce-to-handler latency over one minute of the run.</summary>
public sealed record SoakMinute(int Minute, long Handled, double PerSecond, double P50Ms, double P99Ms, double MaxMs);

/// <summary>
/// Issue 12, part 4: records produced at a steady rate to the Kafka consumer (librdkafka's mock cluster unless a broker
/// is named), a share of them copies of recent IDs, with a short deduplication window and the purger running
/// throughout, once per retention mode. Samples the inbox's size and the consumer's rate and latency (produce to handler,
/// from the record's timestamp) as it goes, then checks that every unique ID has exactly one business row.
/// </summary>
public static class SoakRun
{
    public static async Task<SoakResult> RunAsync(InboxRetention retention, SoakSettings settings, TextWriter output, CancellationToken cancellationToken)
    {
        await using var bench = await PostgresBench.CreateAsync(retention: retention);
        await using var broker = await KafkaBroker.StartAsync(m => output.WriteLine($"   {m}"));
        var topic = $"soak-{Guid.NewGuid():N}";
        var group = $"soak-{Guid.NewGuid():N}";
        await broker.CreateTopicAsync(topic, settings.Partitions);
        if (!settings.Autovacuum)
        {
            // Diagnosis only: to see whether autovacuum's visits are what puts the consumer behind now and then.
            var tables = retention == InboxRetention.Generations ? "inbox_messages_g0, inbox_messages_g1, inbox_messages_g2" : "inbox_messages";
            foreach (var table in $"orders, {tables}".Split(", "))
            {
                await bench.ExecuteAsync($"ALTER TABLE {table} SET (autovacuum_enabled = false)");
            }
        }

        var probe = new LatencyProbe();
        using var counter = new HandledCounter(group);

        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton(probe);
        builder.Services.AddDbContext<BenchDbContext>(o => o.UseNpgsql(bench.ConnectionString)
            .ReplaceService<Microsoft.EntityFrameworkCore.Infrastructure.IModelCacheKeyFactory, BenchModelCacheKeys>());
        builder.Services.AddInbox<BenchDbContext>(o =>
        {
            o.DeduplicationWindow = settings.DeduplicationWindow;
            o.PurgeInterval = settings.Purge;
        });
        var config = broker.ConsumerConfig(group);
        config.SessionTimeoutMs = 10_000;
        config.HeartbeatIntervalMs = 1_000;

        // The mock cluster answers a fetch only after fetch.wait.max.ms (500 ms by default) when there is little to
        // return; at a steady rate that wait, not the consumer, would be the latency measured.
        config.FetchWaitMaxMs = 20;
        builder.Services.AddInboxKafkaConsumer<BenchDbContext, KafkaOrder, SoakHandler>(o =>
        {
            o.Topics = [topic];
            o.Consumer = config;
            o.BatchSize = settings.BatchSize;
            o.MaxConcurrentBatches = Environment.ProcessorCount;
        });
        using var host = builder.Build();
        await host.StartAsync(cancellationToken);

        var clock = Stopwatch.StartNew();
        long produced = 0;
        var producing = Task.Run(() => Produce(broker, topic, settings, () => Interlocked.Increment(ref produced), cancellationToken), cancellationToken);
        var unique = settings.Messages - (long)Math.Round(settings.Messages * settings.DuplicateShare);

        var samples = new List<SoakSample>();
        var minutes = new List<SoakMinute>();
        var minuteLatencies = new List<double>();
        long minuteStart = 0;
        long last = 0;
        long lastAutovacuums = 0;
        var lastCpu = await CpuSample.TakeAsync(bench.ConnectionString);
        var lastAt = TimeSpan.Zero;
        var deadline = TimeSpan.FromSeconds((2.0 * settings.Messages / settings.Rate) + 120);
        output.WriteLine($"   {retention}: {settings.Messages:N0} records at {settings.Rate:N0}/s, {settings.DuplicateShare:P0} copies, window {settings.DeduplicationWindow}, purge every {settings.Purge}");
        while (counter.Handled < settings.Messages)
        {
            if (clock.Elapsed > deadline)
            {
                throw new TimeoutException($"The soak handled {counter.Handled:N0} of {settings.Messages:N0} records in {deadline}.");
            }

            await Task.Delay(settings.Sample, cancellationToken);
            var now = clock.Elapsed;
            var count = counter.Handled;
            var latencies = probe.Drain();
            minuteLatencies.AddRange(latencies);
            var (rows, bytes, generation) = await InboxSizeAsync(bench, retention);
            var cpu = await CpuSample.TakeAsync(bench.ConnectionString);
            var (process, librdkafka, postgres) = cpu.Since(lastCpu);
            var interval = (now - lastAt).TotalSeconds;
            lastCpu = cpu;
            var autovacuums = await bench.ScalarAsync<long>("SELECT coalesce(sum(autovacuum_count + autoanalyze_count), 0)::bigint FROM pg_stat_user_tables");
            var sample = new SoakSample(
                Math.Round(now.TotalSeconds, 1),
                Interlocked.Read(ref produced),
                count,
                (count - last) / (now - lastAt).TotalSeconds,
                Stats.Percentile(latencies, 50),
                Stats.Percentile(latencies, 99),
                Stats.Percentile(latencies, 100),
                rows,
                bytes / 1_000_000.0,
                generation,
                autovacuums - lastAutovacuums,
                Math.Round((process - librdkafka) / interval, 2),
                Math.Round(librdkafka / interval, 2),
                Math.Round(postgres / interval, 2));
            lastAutovacuums = autovacuums;
            samples.Add(sample);
            output.WriteLine($"   {sample.Seconds,6:0} s  produced {sample.Produced,9:N0}  handled {sample.Handled,9:N0}  {sample.PerSecond,7:N0}/s  p50 {sample.P50Ms,6:0.0} ms  p99 {sample.P99Ms,7:0.0} ms  inbox {sample.InboxRows,9:N0} rows {sample.InboxMb,6:0.0} MB  generation {sample.Generation}  autovacuum/analyze runs {sample.Autovacuums}  cores: .NET {sample.AppCores:0.00} librdkafka {sample.LibrdkafkaCores:0.00} PostgreSQL {sample.PostgresCores:0.00}");
            (last, lastAt) = (count, now);

            if ((int)(now.TotalSeconds / 60) > minutes.Count || count >= settings.Messages)
            {
                var seconds = now.TotalSeconds - (minutes.Count * 60);
                minutes.Add(new SoakMinute(minutes.Count + 1, count - minuteStart, (count - minuteStart) / seconds, Stats.Percentile(minuteLatencies, 50), Stats.Percentile(minuteLatencies, 99), Stats.Percentile(minuteLatencies, 100)));
                minuteStart = count;
                minuteLatencies.Clear();
            }
        }

        await producing;
        await host.StopAsync(cancellationToken);
        var orders = await bench.CountOrdersAsync();
        var distinct = await bench.ScalarAsync<long>("SELECT count(DISTINCT \"MessageId\") FROM orders");
        var result = new SoakResult(retention.ToString(), samples, minutes, unique, orders, distinct);
        output.WriteLine($"   {retention}: {orders:N0} business rows, {distinct:N0} distinct IDs for {unique:N0} unique IDs: {(result.Correct ? "exactly once" : "WRONG")}");
        return result;
    }

    /// <summary>Writes the results as Markdown tables: per sample and per minute.</summary>
    public static void Print(IEnumerable<SoakResult> results, TextWriter output)
    {
        foreach (var result in results)
        {
            output.WriteLine();
            output.WriteLine($"{result.Retention}: {result.Rows:N0} business rows, {result.Distinct:N0} distinct, for {result.Unique:N0} unique IDs ({(result.Correct ? "exactly once" : "WRONG")})");
            output.WriteLine();
            output.WriteLine("| s | produced | handled | msg/s | p50 ms | p99 ms | max ms | inbox rows | inbox MB | generation | autovacuum/analyze runs |");
            output.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var s in result.Samples)
            {
                output.WriteLine($"| {s.Seconds:0} | {s.Produced:N0} | {s.Handled:N0} | {s.PerSecond:N0} | {s.P50Ms:0.0} | {s.P99Ms:0.0} | {s.MaxMs:0.0} | {s.InboxRows:N0} | {s.InboxMb:0.0} | {(s.Generation < 0 ? "—" : s.Generation)} | {s.Autovacuums} |");
            }

            output.WriteLine();
            output.WriteLine("| minute | handled | msg/s | p50 ms | p99 ms | max ms |");
            output.WriteLine("|---:|---:|---:|---:|---:|---:|");
            foreach (var m in result.Minutes)
            {
                output.WriteLine($"| {m.Minute} | {m.Handled:N0} | {m.PerSecond:N0} | {m.P50Ms:0.0} | {m.P99Ms:0.0} | {m.MaxMs:0.0} |");
            }
        }
    }

    /// <summary>
    /// Produces at the settings' rate, in ticks of 10 ms. Every record whose index falls on the duplicate share is a copy
    /// of one of the last 1,000 unique IDs (so it arrives well inside the window), with a fresh value and partition.
    /// </summary>
    private static void Produce(KafkaBroker broker, string topic, SoakSettings settings, Action delivered, CancellationToken cancellationToken)
    {
        var config = broker.ProducerConfig();
        config.Acks = Acks.Leader;
        config.LingerMs = 5;
        using var producer = new ProducerBuilder<Null, byte[]>(config).Build();
        var prefix = Guid.NewGuid().ToString("N")[..8];
        var recent = new string[1_000];
        var random = new Random(12);
        long uniques = 0;
        var every = settings.DuplicateShare > 0 ? (int)Math.Round(1 / settings.DuplicateShare) : int.MaxValue;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < settings.Messages; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            while (i > clock.Elapsed.TotalSeconds * settings.Rate)
            {
                producer.Poll(TimeSpan.FromMilliseconds(10));
            }

            string id;
            if ((i + 1) % every == 0 && uniques > 0)
            {
                id = recent[random.Next((int)Math.Min(uniques, recent.Length))];
            }
            else
            {
                id = $"{prefix}-{uniques:D8}";
                recent[uniques % recent.Length] = id;
                uniques++;
            }

            producer.Produce(new TopicPartition(topic, i % settings.Partitions), new Message<Null, byte[]>
            {
                Value = JsonSerializer.SerializeToUtf8Bytes(new KafkaOrder(i, 10), JsonSerializerOptions.Web),
                Headers = [new Header(KafkaOrder.IdHeader, Encoding.UTF8.GetBytes(id))],
            }, report =>
            {
                if (!report.Error.IsError)
                {
                    delivered();
                }
            });
        }

        producer.Flush(TimeSpan.FromMinutes(1));
    }

    private static async Task<(long Rows, long Bytes, long Generation)> InboxSizeAsync(PostgresBench bench, InboxRetention retention)
    {
        if (retention == InboxRetention.Generations)
        {
            var rows = await bench.ScalarAsync<long>(
                "SELECT (SELECT count(*) FROM inbox_messages_g0) + (SELECT count(*) FROM inbox_messages_g1) + (SELECT count(*) FROM inbox_messages_g2)");
            var bytes = await bench.ScalarAsync<long>(
                "SELECT pg_total_relation_size('inbox_messages_g0') + pg_total_relation_size('inbox_messages_g1') + pg_total_relation_size('inbox_messages_g2')");
            return (rows, bytes, await bench.ScalarAsync<long>("SELECT generation FROM inbox_messages_generation"));
        }

        return (
            await bench.ScalarAsync<long>("SELECT count(*) FROM inbox_messages"),
            await bench.ScalarAsync<long>("SELECT pg_total_relation_size('inbox_messages')"),
            -1);
    }
}

/// <summary>Produce-to-handler latencies since the last drain.</summary>
public sealed class LatencyProbe
{
    private ConcurrentQueue<double> _latencies = new();

    public void Add(double milliseconds) => _latencies.Enqueue(milliseconds);

    public List<double> Drain() => [.. Interlocked.Exchange(ref _latencies, new ConcurrentQueue<double>())];
}

/// <summary>The soak's handler: the business row, and the record's age when it reached the handler.</summary>
public sealed class SoakHandler(BenchDbContext db, LatencyProbe probe) : IInboxHandler<KafkaOrder>
{
    public Task HandleAsync(KafkaOrder message, InboxMessageContext context, CancellationToken cancellationToken)
    {
        probe.Add((DateTime.UtcNow - context.Timestamp.UtcDateTime).TotalMilliseconds);
        db.Orders.Add(new Order { MessageId = context.MessageId, Amount = message.Amount });
        return Task.CompletedTask;
    }
}
