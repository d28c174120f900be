using Inbox.Benchmarks.Harness;
using Microsoft.Extensions.DependencyInjection;

namespace Inbox.Benchmarks.Scenarios;

/// <summary>
/// Scenario 4: the core on PostgreSQL without a broker. Eight concurrent handlers, as a consumer with
/// concurrency 8 would have. Raw: the same business write with SaveChanges and no deduplication.
/// </summary>
public sealed class CoreScenario(double duplicateShare = 0) : IScenario
{
    private const int Concurrency = 8;
    private const int BatchSize = 100;
    private PostgresBench? _bench;

    public string Name => duplicateShare > 0 ? $"core-postgres-{duplicateShare:P0}-dup".Replace(" ", "", StringComparison.Ordinal) : "core-postgres";

    public string Description => $"IInbox on PostgreSQL, no broker, concurrency {Concurrency}, {duplicateShare:P0} copies";

    public int DefaultMessages => 20_000;

    public async Task<IReadOnlyList<Variant>> SetUpAsync(CancellationToken cancellationToken)
    {
        _bench = await PostgresBench.CreateAsync();
        return
        [
            new("raw SaveChanges", (n, ct) => RunAsync(n, inbox: false, batch: false, ct)),
            new("inbox ProcessAsync", (n, ct) => RunAsync(n, inbox: true, batch: false, ct)),
            new("raw batch 100", (n, ct) => RunAsync(n, inbox: false, batch: true, ct)),
            new("inbox ProcessBatchAsync 100", (n, ct) => RunAsync(n, inbox: true, batch: true, ct), Baseline: "raw batch 100"),
        ];
    }

    private async Task<RoundResult> RunAsync(int deliveries, bool inbox, bool batch, CancellationToken cancellationToken)
    {
        var bench = _bench!;
        await bench.ResetAsync();
        var ids = MessageStream.Create(Guid.NewGuid().ToString("N")[..8], deliveries, duplicateShare);
        var unique = ids.Distinct().Count();
        var units = batch ? (deliveries + BatchSize - 1) / BatchSize : deliveries;

        var (elapsed, latencies) = await Workers.RunAsync(units, Concurrency, async (unit, ct) =>
        {
            await using var scope = bench.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<BenchDbContext>();
            var slice = batch ? ids.AsMemory(unit * BatchSize, Math.Min(BatchSize, deliveries - (unit * BatchSize))).ToArray() : [ids[unit]];
            if (!inbox)
            {
                db.Orders.AddRange(slice.Select(id => new Order { MessageId = id, Amount = 10 }));
                await db.SaveChangesAsync(ct);
                return;
            }

            var sut = scope.ServiceProvider.GetRequiredService<IInbox<BenchDbContext>>();
            if (batch)
            {
                await sut.ProcessBatchAsync("bench", slice, static id => new InboxMessage(id), static (context, fresh, _) =>
                {
                    context.Orders.AddRange(fresh.Select(id => new Order { MessageId = id, Amount = 10 }));
                    return Task.CompletedTask;
                }, ct);
            }
            else
            {
                await sut.ProcessAsync("bench", slice[0], (context, _) =>
                {
                    context.Orders.Add(new Order { MessageId = slice[0], Amount = 10 });
                    return Task.CompletedTask;
                }, ct);
            }
        }, cancellationToken);

        var rows = await bench.CountOrdersAsync();
        var (statements, begins, commits) = await bench.StatementsAsync();
        var expected = inbox ? unique : deliveries;
        var result = new RoundResult(
            deliveries,
            elapsed,
            rows == expected,
            inbox ? $"{rows} rows for {unique} unique IDs" : $"{rows} rows for {deliveries} deliveries (no dedup)");
        result.Figures["statements/msg"] = (double)statements / deliveries;
        result.Figures["BEGIN/msg"] = (double)begins / deliveries;
        result.Figures["COMMIT/msg"] = (double)commits / deliveries;
        result.Figures["p50 ms"] = Stats.Percentile(latencies, 50);
        result.Figures["p99 ms"] = Stats.Percentile(latencies, 99);
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
