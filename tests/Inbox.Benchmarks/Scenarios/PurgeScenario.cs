using System.Diagnostics;
using Inbox.Benchmarks.Harness;
using Inbox.Purging;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Inbox.Benchmarks.Scenarios;

/// <summary>
/// Scenario 5: a million records expire while a consumer (IInbox.ProcessAsync, concurrency 8) runs beside the purge.
/// Retention by DELETE deletes them in batches of 10,000; retention by generations rotates once and truncates the
/// table that holds them. Each is measured against the same consumer with nothing to purge, in the same retention mode;
/// the generations consumer alone is also measured against the DELETE one, for the cost of its writes.
/// Figures: consumer latency, how long the purge took, the WAL the round wrote, and the dead tuples left in the inbox's
/// tables right after the purge (pgstattuple), and a VACUUM of those tables after the round: its time and WAL are the
/// cost a DELETE leaves behind.
/// </summary>
public sealed class PurgeScenario(int expiredRows = 1_000_000) : IScenario
{
    private const int Concurrency = 8;
    private PostgresBench? _delete;
    private PostgresBench? _generations;

    public string Name => "purge";

    public string Description => $"{expiredRows:N0} expired records removed beside a consumer on PostgreSQL, concurrency {Concurrency}: DELETE in batches of 10,000, or a generation rotation";

    public int DefaultMessages => 20_000;

    public async Task<IReadOnlyList<Variant>> SetUpAsync(CancellationToken cancellationToken)
    {
        _delete = await PostgresBench.CreateAsync(o => o.DeduplicationWindow = TimeSpan.FromHours(24));
        _generations = await PostgresBench.CreateAsync(o => o.DeduplicationWindow = TimeSpan.FromHours(24), retention: InboxRetention.Generations);
        await _delete.ExecuteAsync("CREATE EXTENSION IF NOT EXISTS pgstattuple");
        await _generations.ExecuteAsync("CREATE EXTENSION IF NOT EXISTS pgstattuple");
        return
        [
            new("consumer alone", (n, ct) => RunAsync(_delete, n, purge: false, ct)),
            new("consumer + DELETE purge", (n, ct) => RunAsync(_delete, n, purge: true, ct)),
            new("generations: consumer alone", (n, ct) => RunAsync(_generations, n, purge: false, ct)),
            new("generations: consumer + rotation", (n, ct) => RunAsync(_generations, n, purge: true, ct), "generations: consumer alone"),
        ];
    }

    private async Task<RoundResult> RunAsync(PostgresBench bench, int deliveries, bool purge, CancellationToken cancellationToken)
    {
        var generations = bench == _generations;
        await bench.ResetAsync();
        if (generations)
        {
            // Generation 1 is current and, with purge, a window old: the pass makes 2 current and, once it has settled,
            // truncates table 0, which holds the expired records.
            var started = purge ? "now() - interval '25 hours'" : "now()";
            await bench.ExecuteAsync(
                "INSERT INTO inbox_messages_g0 (consumer, message_id, processed_at) " +
                $"SELECT 'expired', 'old-' || g, now() - interval '3 days' FROM generate_series(1, {expiredRows}) g; ANALYZE inbox_messages_g0; " +
                $"UPDATE inbox_messages_generation SET generation = 1, started_at = {started}, previous_started_at = now() - interval '49 hours', " +
                "oldest_started_at = NULL, settling = false, settle_after = NULL;");
        }
        else
        {
            await bench.ExecuteAsync(
                "INSERT INTO inbox_messages (consumer, message_id, processed_at) " +
                $"SELECT 'expired', 'old-' || g, now() - interval '3 days' FROM generate_series(1, {expiredRows}) g; ANALYZE inbox_messages;");
        }

        await bench.ExecuteAsync("CHECKPOINT");
        var walBefore = await bench.ScalarAsync<string>("SELECT pg_current_wal_lsn()::text");
        var ids = MessageStream.Create(Guid.NewGuid().ToString("N")[..8], deliveries, 0);

        var purger = bench.Services.GetServices<IHostedService>().OfType<InboxPurger<BenchDbContext>>().Single();
        var purgeClock = Stopwatch.StartNew();
        var tables = generations ? "ARRAY['inbox_messages_g0', 'inbox_messages_g1', 'inbox_messages_g2']" : "ARRAY['inbox_messages']";
        var deadSql = $"SELECT sum((pgstattuple(t)).dead_tuple_count) FROM unnest({tables}) t";
        var purging = purge ? PurgeAsync(bench, PassesAsync(bench, purger, generations, cancellationToken), purgeClock, deadSql) : Task.FromResult((0L, TimeSpan.Zero, 0m));
        var (elapsed, latencies) = await Workers.RunAsync(deliveries, Concurrency, async (index, ct) =>
        {
            await using var scope = bench.Services.CreateAsyncScope();
            var inbox = scope.ServiceProvider.GetRequiredService<IInbox<BenchDbContext>>();
            await inbox.ProcessAsync("bench", ids[index], (db, _) =>
            {
                db.Orders.Add(new Order { MessageId = ids[index], Amount = 10 });
                return Task.CompletedTask;
            }, ct);
        }, cancellationToken);
        var (purged, purgeTime, deadAfterPurge) = await purging;
        var wal = await bench.ScalarAsync<decimal>($"SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '{walBefore}'::pg_lsn)");

        // The purge's deferred cost: VACUUM of the inbox's tables now, its time and WAL.
        var vacuumWalBefore = await bench.ScalarAsync<string>("SELECT pg_current_wal_lsn()::text");
        var vacuumClock = Stopwatch.StartNew();
        await bench.ExecuteAsync("VACUUM " + (generations ? "inbox_messages_g0, inbox_messages_g1, inbox_messages_g2" : "inbox_messages"));
        var vacuumTime = vacuumClock.Elapsed;
        var vacuumWal = await bench.ScalarAsync<decimal>($"SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '{vacuumWalBefore}'::pg_lsn)");
        var expiredLeft = await bench.ScalarAsync<long>(
            generations ? "SELECT count(*) FROM inbox_messages_g0 WHERE consumer = 'expired'" : "SELECT count(*) FROM inbox_messages WHERE consumer = 'expired'");

        var rows = await bench.CountOrdersAsync();
        var correct = rows == deliveries && (!purge || expiredLeft == 0);
        var result = new RoundResult(
            deliveries,
            elapsed,
            correct,
            $"{rows} rows for {deliveries} IDs" + (purge ? $"; {expiredLeft:N0} of {expiredRows:N0} expired records left" : ""));
        result.Figures["p50 ms"] = Stats.Percentile(latencies, 50);
        result.Figures["p99 ms"] = Stats.Percentile(latencies, 99);
        result.Figures["max ms"] = Stats.Percentile(latencies, 100);
        result.Figures["WAL MB"] = (double)wal / 1_000_000;
        result.Figures["vacuum s"] = vacuumTime.TotalSeconds;
        result.Figures["vacuum WAL MB"] = (double)vacuumWal / 1_000_000;
        if (purge)
        {
            result.Figures["dead tuples after purge"] = (double)deadAfterPurge;
            result.Figures["purge s"] = purgeTime.TotalSeconds;
            if (!generations)
            {
                result.Figures["purged rows/s"] = purged / purgeTime.TotalSeconds;
            }
        }

        return result;
    }

    /// <summary>
    /// One purge pass, and under generations more until the expired table is truncated (60 s at most): a rotation waits
    /// (5 s per pass) for every transaction of the cluster older than the switch, and another client of the same server
    /// (a test suite running beside the benchmark) can hold one longer. The time includes that wait.
    /// </summary>
    private static async Task<long> PassesAsync(PostgresBench bench, InboxPurger<BenchDbContext> purger, bool generations, CancellationToken cancellationToken)
    {
        var purged = await purger.PurgeAsync(cancellationToken);
        var clock = Stopwatch.StartNew();
        while (generations && clock.Elapsed < TimeSpan.FromSeconds(60)
            && await bench.ScalarAsync<long>("SELECT count(*) FROM inbox_messages_g0 WHERE consumer = 'expired'") > 0)
        {
            purged += Math.Max(0, await purger.PurgeAsync(cancellationToken));
        }

        return purged;
    }

    /// <summary>The pass, its time, and the dead tuples it left, counted as soon as it ended (before autovacuum gets to them).</summary>
    private static async Task<(long Purged, TimeSpan Elapsed, decimal Dead)> PurgeAsync(PostgresBench bench, Task<long> pass, Stopwatch clock, string deadSql)
    {
        var purged = await pass;
        var elapsed = clock.Elapsed;
        return (purged, elapsed, await bench.ScalarAsync<decimal>(deadSql));
    }

    public async ValueTask DisposeAsync()
    {
        if (_delete is not null)
        {
            await _delete.DisposeAsync();
        }

        if (_generations is not null)
        {
            await _generations.DisposeAsync();
        }
    }
}
