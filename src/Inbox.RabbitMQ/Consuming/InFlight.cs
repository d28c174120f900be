namespace Inbox.RabbitMQ.Consuming;

/// <summary>
/// Counts the deliveries being processed, so that a stopping consumer can wait for them. Hand-written: it is a counter
/// and one completion, which nothing in the BCL offers with an awaitable "reached zero".
/// </summary>
internal sealed class InFlight
{
    private readonly TaskCompletionSource _idle = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _count;
    private bool _closing;

    public int Count => Volatile.Read(ref _count);

    public void Enter() => Interlocked.Increment(ref _count);

    public void Exit()
    {
        if (Interlocked.Decrement(ref _count) == 0 && Volatile.Read(ref _closing))
        {
            _idle.TrySetResult();
        }
    }

    /// <summary>Completes once no delivery is in flight; only deliveries already entered are waited for.</summary>
    public Task WhenIdleAsync()
    {
        Volatile.Write(ref _closing, true);
        if (Count == 0)
        {
            _idle.TrySetResult();
        }

        return _idle.Task;
    }
}
