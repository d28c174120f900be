using System.Diagnostics;

namespace Inbox.Benchmarks.Scenarios.RabbitMq;

/// <summary>
/// Times one run of a RabbitMQ.Client consumer as <see cref="Messaging.ConsumptionTracker"/> times MassTransit's: from
/// the first delivery's start to the last delivery settled. A consumer says when a delivery starts (<see cref="Start"/>)
/// and when deliveries are settled, one by one (<see cref="Settle"/>, the raw consumer after its acknowledgement) or as a
/// running total (<see cref="SettledUpTo"/>, the inbox's processed and duplicate counters), one way or the other in a
/// run. A delivery that failed counts
/// as settled too (<see cref="Fault"/>), so that a wrong run ends at once and says why instead of timing out.
/// </summary>
/// <param name="expected">The deliveries of the run.</param>
public sealed class DeliveryClock(long expected)
{
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _first;
    private long _last;
    private long _counted;
    private long _total;
    private long _faults;
    private string? _firstError;

    /// <summary>Gets how many deliveries were settled, the faulted ones included.</summary>
    public long Count => Interlocked.Read(ref _total);

    /// <summary>Gets how many deliveries failed.</summary>
    public long Faults => Interlocked.Read(ref _faults);

    /// <summary>Gets the first failure's message, if any.</summary>
    public string? FirstError => Volatile.Read(ref _firstError);

    /// <summary>Gets the <see cref="Stopwatch"/> timestamp of the first delivery's start; 0 before it.</summary>
    public long FirstTimestamp => Interlocked.Read(ref _first);

    /// <summary>Gets the time from the first delivery's start to the last delivery settled.</summary>
    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(Interlocked.Read(ref _first), Interlocked.Read(ref _last));

    /// <summary>A delivery starts; the first one starts the clock.</summary>
    public void Start() => Interlocked.CompareExchange(ref _first, Stopwatch.GetTimestamp(), 0);

    /// <summary>One more delivery is settled.</summary>
    public void Settle() => SettledUpTo(Interlocked.Increment(ref _counted));

    /// <summary>One more delivery failed; it counts as settled.</summary>
    public void Fault(Exception exception)
    {
        Interlocked.CompareExchange(ref _firstError, $"{exception.GetType().Name}: {exception.Message}", null);
        Interlocked.Increment(ref _faults);
        SettledUpTo(Interlocked.Increment(ref _counted));
    }

    /// <summary>As many deliveries as <paramref name="total"/> are settled in all; totals may arrive out of order.</summary>
    public void SettledUpTo(long total)
    {
        Raise(ref _last, Stopwatch.GetTimestamp());
        Raise(ref _total, total);
        if (total >= expected)
        {
            _done.TrySetResult();
        }
    }

    /// <summary>Completes when every expected delivery is settled; false when the time ran out first.</summary>
    public async Task<bool> WaitAsync(TimeSpan timeout)
    {
        try
        {
            await _done.Task.WaitAsync(timeout);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private static void Raise(ref long target, long value)
    {
        var current = Interlocked.Read(ref target);
        while (current < value)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
