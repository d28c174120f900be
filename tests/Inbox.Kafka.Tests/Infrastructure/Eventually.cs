using System.Diagnostics;

namespace Inbox.Kafka.Tests.Infrastructure;

/// <summary>Awaits a condition with a deadline; on timeout fails with what was last seen. No sleep-and-hope.</summary>
public static class Eventually
{
    public static async Task<TimeSpan> Until(Func<Task<bool>> condition, TimeSpan timeout, Func<Task<string>> describe, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            if (watch.Elapsed > timeout)
            {
                Assert.Fail($"Timed out after {timeout.TotalSeconds:0}s waiting for {what}; last seen: {await describe()}");
            }

            await Task.Delay(100);
        }

        return watch.Elapsed;
    }
}
