using Inbox.Purging;
using Inbox.Tests.Contract;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Inbox.Tests.Purging;

/// <summary>
/// The inbox's purger in a process of its own, so that a test can kill it with SIGKILL in the middle of a rotation.
/// Started as <c>dotnet Inbox.Tests.dll rotator &lt;connection&gt;</c> (a connection string that selects retention by
/// generations, with a one-hour window); prints "ready", runs one pass on the system clock, prints "passed" and waits.
/// </summary>
public static class RotatorWorker
{
    public static async Task<int> Main(string[] args)
    {
        if (args is not ["rotator", var connection])
        {
            await Console.Error.WriteLineAsync("usage: rotator <connection>");
            return 2;
        }

        var services = new ServiceCollection();
        services.AddLogging();
        services.AddDbContext<TestDbContext>(o => o.UseNpgsql(connection));
        services.AddInbox<TestDbContext>(o => o.DeduplicationWindow = TimeSpan.FromHours(1));
        await using var provider = services.BuildServiceProvider();
        var purger = provider.GetServices<IHostedService>().OfType<InboxPurger<TestDbContext>>().Single();
        Console.WriteLine("ready");
        await purger.PurgeAsync(CancellationToken.None);
        Console.WriteLine("passed");
        await Task.Delay(Timeout.Infinite);
        return 0;
    }
}
