using System.Diagnostics;

namespace Inbox.Benchmarks.Scenarios;

/// <summary>Runs work items with a fixed concurrency, as a consumer with N concurrent handlers would, and records latencies.</summary>
public static class Workers
{
    public static async Task<(TimeSpan Elapsed, List<double> LatenciesMs)> RunAsync(
        int items, int concurrency, Func<int, CancellationToken, Task> work, CancellationToken cancellationToken)
    {
        var next = -1;
        var latencies = new List<double>[concurrency];
        var stopwatch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(w => Task.Run(async () =>
        {
            latencies[w] = [];
            int index;
            while ((index = Interlocked.Increment(ref next)) < items)
            {
                var started = Stopwatch.GetTimestamp();
                await work(index, cancellationToken);
                latencies[w].Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }, cancellationToken)));
        return (stopwatch.Elapsed, latencies.SelectMany(l => l).ToList());
    }
}
