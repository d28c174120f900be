using Inbox.Processing;
using Inbox.Tests.Contract;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Inbox.Tests.Processing;

public sealed class InboxRuntimeTests
{
    /// <summary>
    /// Units of work on many threads ask for the store retry while the options are reloaded back and forth: each must
    /// get the retry built from the options it passed, never one built from the other options or none at all.
    /// </summary>
    [Fact]
    public void StoreRetryFor_OptionsReloadedWhileManyThreadsAsk_EachGetsTheRetryOfItsOwnOptions()
    {
        using var services = new ServiceCollection()
            .AddLogging()
            .AddDbContext<TestDbContext>(o => o.UseSqlite("Data Source=:memory:"))
            .AddInbox<TestDbContext>()
            .BuildServiceProvider();
        var sut = services.GetRequiredService<InboxRuntime<TestDbContext>>();
        InboxOptions[] options = [new() { StoreOutageLimit = TimeSpan.FromMinutes(1) }, new() { StoreOutageLimit = TimeSpan.FromMinutes(2) }];
        var wrong = 0;

        Parallel.For(0, 4, thread =>
        {
            for (var i = 0; i < 500_000; i++)
            {
                var current = options[(i + thread) % 2];
                if (sut.StoreRetryFor(current)?.Limit != current.StoreOutageLimit)
                {
                    Interlocked.Increment(ref wrong);
                }
            }
        });

        Assert.Equal(0, wrong);
    }
}
