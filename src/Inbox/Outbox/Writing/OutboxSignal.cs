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

    /// <summary>Waits for a signal or the timeout, on the clock of <paramref name="time"/>; returns whether it was signalled.</summary>
    public async Task<bool> WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        using var expiry = new CancellationTokenSource(timeout, time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(expiry.Token, cancellationToken);
        try
        {
            // A cancelled wait takes no signal: one that arrives meanwhile waits for the next call.
            await _signal.WaitAsync(either.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (expiry.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
