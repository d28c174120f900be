using System.Diagnostics;
using System.Net.Http.Json;
using Inbox.AspNetCore;
using Inbox.Benchmarks.Harness;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Inbox.Benchmarks.Scenarios.Http;

/// <summary>
/// Idempotency-Key (issue 11): the same minimal API endpoint writing an order row on PostgreSQL, with
/// <c>RequireIdempotencyKey()</c> and a new key per request, against without (its own <c>SaveChanges</c>). Kestrel on
/// loopback and an HttpClient with a fixed number of requests in flight, in the same process. Also the replay: the same
/// key again, answered from the stored response.
/// </summary>
public sealed class HttpIdempotencyScenario : IScenario
{
    private const int InFlight = 8;
    private PostgresBench? _bench;
    private WebApplication? _app;
    private HttpClient? _client;

    public string Name => "http-idempotency";

    public string Description => $"ASP.NET Core minimal API on PostgreSQL, Kestrel on loopback, {InFlight} requests in flight";

    public int DefaultMessages => 10_000;

    public async Task<IReadOnlyList<Variant>> SetUpAsync(CancellationToken cancellationToken)
    {
        _bench = await PostgresBench.CreateAsync(o => o.PurgeEnabled = false);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddDbContext<BenchDbContext>(o => o.UseNpgsql(_bench.ConnectionString));
        builder.Services.AddInbox<BenchDbContext>(o => o.PurgeEnabled = false);
        builder.Services.AddIdempotencyKeys<BenchDbContext>();
        var app = builder.Build();
        app.UseIdempotencyKeys();
        app.MapPost("/plain", async (OrderRequest request, BenchDbContext db) =>
        {
            var order = new Order { MessageId = request.OrderKey, Amount = request.Amount };
            db.Orders.Add(order);
            await db.SaveChangesAsync();
            return Results.Accepted(value: order);
        });
        app.MapPost("/keyed", (OrderRequest request, BenchDbContext db) =>
        {
            // No SaveChanges: the key's transaction saves the order with the stored response.
            var order = new Order { MessageId = request.OrderKey, Amount = request.Amount };
            db.Orders.Add(order);
            return Results.Accepted(value: order);
        }).RequireIdempotencyKey();
        await app.StartAsync(cancellationToken);
        _app = app;
        _client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = InFlight }) { BaseAddress = new Uri(app.Urls.First()) };

        // Uncounted runs first, so that round 1 does not pay for JIT tiering and pools.
        await RunAsync(500, keyed: false, replay: false, cancellationToken);
        await RunAsync(500, keyed: true, replay: false, cancellationToken);
        return
        [
            new("no key", (n, ct) => RunAsync(n, keyed: false, replay: false, ct)),
            new("Idempotency-Key, new keys", (n, ct) => RunAsync(n, keyed: true, replay: false, ct)),
            new("Idempotency-Key, replays", (n, ct) => RunAsync(n, keyed: true, replay: true, ct)),
        ];
    }

    private async Task<RoundResult> RunAsync(int requests, bool keyed, bool replay, CancellationToken cancellationToken)
    {
        var bench = _bench!;
        await bench.ResetAsync();
        var run = Guid.NewGuid().ToString("N")[..8];
        if (replay)
        {
            // Not measured: the keys and their responses, one request each.
            await SendAllAsync(requests, i => Request(run, i, "/keyed", key: $"{run}-{i}"), cancellationToken);
            await bench.ExecuteAsync("SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)");
        }

        var latencies = new double[requests];
        var stopwatch = Stopwatch.StartNew();
        var statuses = await SendAllAsync(
            requests,
            i => Request(run, i, keyed ? "/keyed" : "/plain", keyed ? $"{run}-{i}" : null),
            cancellationToken,
            latencies);
        var elapsed = stopwatch.Elapsed;

        var rows = await bench.CountOrdersAsync();
        var keys = await bench.ScalarAsync<long>("SELECT count(*) FROM idempotency_keys");
        var created = statuses.Count(s => s == 202);
        var (statements, _, _) = await bench.StatementsAsync();
        var correct = created == requests && rows == requests && keys == (keyed ? requests : 0);
        var result = new RoundResult(requests, elapsed, correct, $"{created} of {requests} answered 202, {rows} order rows, {keys} keys");
        result.Figures["statements/req"] = (double)statements / requests;
        result.Figures["p50 ms"] = Stats.Percentile([.. latencies], 50);
        result.Figures["p99 ms"] = Stats.Percentile([.. latencies], 99);
        return result;
    }

    private async Task<int[]> SendAllAsync(int requests, Func<int, HttpRequestMessage> create, CancellationToken cancellationToken, double[]? latencies = null)
    {
        var statuses = new int[requests];
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, InFlight).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < requests)
            {
                var started = Stopwatch.GetTimestamp();
                using var message = create(i);
                using var response = await _client!.SendAsync(message, cancellationToken);
                await response.Content.LoadIntoBufferAsync(cancellationToken);
                statuses[i] = (int)response.StatusCode;
                if (latencies is not null)
                {
                    latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                }
            }
        }));
        return statuses;
    }

    private static HttpRequestMessage Request(string run, int i, string path, string? key)
    {
        var message = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(new OrderRequest($"{run}-{i:D7}", 10)) };
        if (key is not null)
        {
            message.Headers.Add("Idempotency-Key", key);
        }

        return message;
    }

    public async ValueTask DisposeAsync()
    {
        _client?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        if (_bench is not null)
        {
            await _bench.DisposeAsync();
        }
    }

    private sealed record OrderRequest(string OrderKey, decimal Amount);
}
