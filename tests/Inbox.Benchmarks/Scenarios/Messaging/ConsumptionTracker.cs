using System.Collections.Concurrent;
using System.Diagnostics;
using MassTransit;

namespace Inbox.Benchmarks.Scenarios.Messaging;

/// <summary>
/// Watches one queue's deliveries at the receive level, so that a duplicate the inbox skips (the consumer is not
/// called) counts as consumed too: from the first delivery's start to the last one's end, with each delivery's time
/// in the endpoint (receive to acknowledgement-ready; for a batch consumer that includes waiting for the batch).
/// </summary>
public sealed class ConsumptionTracker : IReceiveObserver
{
    private readonly ConcurrentQueue<double> _latencies = new();
    private string _queue = "";
    private int _expected;
    private int _consumed;
    private int _faulted;
    private long _first;
    private long _last;
    private TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Consumed => Volatile.Read(ref _consumed);

    public int Faulted => Volatile.Read(ref _faulted);

    /// <summary>From the first delivery's start to the last delivery's end.</summary>
    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(Interlocked.Read(ref _first), Interlocked.Read(ref _last));

    public List<double> LatenciesMs => [.. _latencies];

    /// <summary>Gets the <see cref="Stopwatch"/> timestamp of the first delivery's start; 0 before it.</summary>
    public long FirstTimestamp => Interlocked.Read(ref _first);

    public void Watch(string queue, int expected)
    {
        _latencies.Clear();
        _consumed = _faulted = 0;
        _first = _last = 0;
        _expected = expected;
        _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _queue, queue);
    }

    /// <summary>Completes when every expected delivery was consumed or faulted; false when the time ran out first.</summary>
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

    public Task PreReceive(ReceiveContext context)
    {
        if (Mine(context))
        {
            Interlocked.CompareExchange(ref _first, Stopwatch.GetTimestamp(), 0);
        }

        return Task.CompletedTask;
    }

    public Task PostReceive(ReceiveContext context)
    {
        // A receive fault (an unreadable body, say) is reported from inside the receive, which then finishes normally
        // once it has moved the message to the error queue: that delivery was counted as faulted already.
        if (Mine(context) && !context.TryGetPayload<FaultCounted>(out _))
        {
            _latencies.Enqueue(context.ElapsedTime.TotalMilliseconds);
            Finish(ref _consumed);
        }

        return Task.CompletedTask;
    }

    public Task ReceiveFault(ReceiveContext context, Exception exception)
    {
        if (Mine(context) && !context.TryGetPayload<FaultCounted>(out _))
        {
            context.GetOrAddPayload(() => new FaultCounted());
            Finish(ref _faulted);
        }

        return Task.CompletedTask;
    }

    public Task PostConsume<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType)
        where T : class => Task.CompletedTask;

    public Task ConsumeFault<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType, Exception exception)
        where T : class => Task.CompletedTask;

    private bool Mine(ReceiveContext context) => QueueName(context.InputAddress) == Volatile.Read(ref _queue);

    private static string QueueName(Uri address) => address.AbsolutePath[(address.AbsolutePath.LastIndexOf('/') + 1)..];

    private void Finish(ref int counter)
    {
        Interlocked.Increment(ref counter);
        Interlocked.Exchange(ref _last, Stopwatch.GetTimestamp());
        if (Consumed + Faulted == _expected)
        {
            _done.TrySetResult();
        }
    }

    /// <summary>Marks a delivery whose receive fault was counted.</summary>
    private sealed class FaultCounted;
}
