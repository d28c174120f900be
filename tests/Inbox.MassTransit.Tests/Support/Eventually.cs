using System.Diagnostics;

namespace Inbox.MassTransit.Tests.Support;

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
                Assert.Fail($"Timed out after {limit.TotalSeconds:0}s waiting until {what}.");
            }

            await Task.Delay(25);
        }
    }

    public static Task WaitAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
        => WaitAsync(() => Task.FromResult(condition()), what, timeout);
}
