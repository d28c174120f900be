using System.Diagnostics;
using Inbox.Benchmarks.Harness;
using Inbox.Purging;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Inbox.Benchmarks.Scenarios;

/// <summary>
/// Scenario 5: the purger deletes a million expired records while a consumer (IInbox.ProcessAsync, concurrency 8)
/// runs beside it. Baseline: the same consumer with nothing to purge.
/// </summary>
public sealed class PurgeScenario(int expiredRows = 1_000_000) : IScenario
{
    private const int Concurrency = 8;
    private PostgresBench? _bench;

    public string Name => "purge";

    public string Description => $"purge {expiredRows:N0} expired rows (batches of 10,000) beside a consumer on PostgreSQL, concurrency {Concurrency}";

    public int DefaultMessages => 20_000;

    public async Task<IReadOnlyList<Variant>> SetUpAsync(CancellationToken cancellationToken)
    {
        _bench = await PostgresBench.CreateAsync(o => o.DeduplicationWindow = TimeSpan.FromHours(24));
        return
        [
            new("consumer alone", (n, ct) => RunAsync(n, purge: false, ct)),
            new("consumer + purge", (n, ct) => RunAsync(n, purge: true, ct)),
        ];
    }

    private async Task<RoundResult> RunAsync(int deliveries, bool purge, CancellationToken cancellationToken)
    {
        var bench = _bench!;
        await bench.ResetAsync();
        await bench.ExecuteAsync(
            "INSERT INTO inbox_messages (consumer, message_id, processed_at) " +
            $"SELECT 'expired', 'old-' || g, now() - interval '3 days' FROM generate_series(1, {expiredRows}) g; ANALYZE inbox_messages;");
        var ids = MessageStream.Create(Guid.NewGuid().ToString("N")[..8], deliveries, 0);

        var purger = bench.Services.GetServices<IHostedService>().OfType<InboxPurger<BenchDbContext>>().Single();
        var purgeClock = Stopwatch.StartNew();
        var purging = purge ? purger.PurgeAsync(cancellationToken) : Task.FromResult(0L);
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
        var purged = await purging;
        var purgeSeconds = purgeClock.Elapsed.TotalSeconds;

        var rows = await bench.CountOrdersAsync();
        var correct = rows == deliveries && (!purge || purged == expiredRows);
        var result = new RoundResult(deliveries, elapsed, correct, purge ? $"{rows} rows for {deliveries} IDs; purged {purged:N0} of {expiredRows:N0}" : $"{rows} rows for {deliveries} IDs");
        result.Figures["p50 ms"] = Stats.Percentile(latencies, 50);
        result.Figures["p99 ms"] = Stats.Percentile(latencies, 99);
        if (purge)
        {
            result.Figures["purged rows/s"] = purged / purgeSeconds;
            result.Figures["purge s"] = purgeSeconds;
        }

        return result;
    }

    public async ValueTask DisposeAsync()
    {
        if (_bench is not null)
        {
            await _bench.DisposeAsync();
        }
    }
}
