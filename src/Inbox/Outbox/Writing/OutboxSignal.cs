using Microsoft.EntityFrameworkCore;

namespace Inbox.Outbox.Writing;

/// <summary>
/// Wakes a DbContext's dispatcher right after a transaction that wrote outbox rows committed in this process, so a
/// message leaves without waiting for the next poll. Any number of signals before the dispatcher looks count as one.
/// </summary>
internal sealed class OutboxSignal<TDbContext>
    where TDbContext : DbContext
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    public void Set()
    {
        try
        {
            _signal.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled.
        }
    }

    /// <summary>Waits for a signal or the timeout; returns whether it was signalled.</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _signal.WaitAsync(timeout, cancellationToken);
}
