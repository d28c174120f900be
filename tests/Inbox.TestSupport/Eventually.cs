using System.Diagnostics;

namespace Inbox.TestSupport;

/// <summary>Awaits a condition with a deadline; fails with a message saying what did not happen.</summary>
public static class Eventually
{
    public static async Task WaitAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(30);
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            if (watch.Elapsed > limit)
            {
                throw new TimeoutException($"Timed out after {limit.TotalSeconds:0}s waiting until {what}.");
            }

            await Task.Delay(25);
        }
    }

    public static Task WaitAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
        => WaitAsync(() => Task.FromResult(condition()), what, timeout);

    /// <summary>Like <see cref="WaitAsync(Func{Task{bool}}, string, TimeSpan?)"/>, saying on timeout what was last seen; returns how long it took.</summary>
    public static async Task<TimeSpan> Until(Func<Task<bool>> condition, TimeSpan timeout, Func<Task<string>> describe, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            if (watch.Elapsed > timeout)
            {
                throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0}s waiting for {what}; last seen: {await describe()}");
            }

            await Task.Delay(100);
        }

        return watch.Elapsed;
    }
}
