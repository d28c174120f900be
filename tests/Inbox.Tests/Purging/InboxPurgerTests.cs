using Inbox.Purging;
using Inbox.Tests.Contract;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Inbox.Tests.Purging;

public sealed class InboxPurgerTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ExecuteAsync_StoreUnreachable_LogsAndTriesAgainEachIntervalWithoutStopping()
    {
        await using var sut = new InboxHarness(new UnreachableStore(), o => o.PurgeInterval = TimeSpan.FromMinutes(1), more: s => s.AddFakeLogging());
        var logs = sut.Services.GetRequiredService<FakeLogCollector>();
        var purger = sut.Services.GetServices<IHostedService>().OfType<InboxPurger<TestDbContext>>().Single();

        await purger.StartAsync(CancellationToken.None);
        await WaitForAsync(() => Failures(logs) >= 1);

        // The purger logs before it starts its delay: keep the fake clock moving until the next pass has run.
        await WaitForAsync(() => Failures(logs) >= 2, () => sut.Time.Advance(TimeSpan.FromSeconds(10)));
        Assert.True(sut.Time.GetUtcNow() - new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero) >= TimeSpan.FromMinutes(1), "the second pass came before the interval");

        Assert.False(purger.ExecuteTask!.IsCompleted, "the purger stopped after a failed pass");
        await purger.StopAsync(CancellationToken.None);
        Assert.True(purger.ExecuteTask.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task ExecuteAsync_Disabled_ReturnsWithoutTouchingTheStore()
    {
        await using var sut = new InboxHarness(new UnreachableStore(), o => o.PurgeEnabled = false, more: s => s.AddFakeLogging());
        var logs = sut.Services.GetRequiredService<FakeLogCollector>();
        var purger = sut.Services.GetServices<IHostedService>().OfType<InboxPurger<TestDbContext>>().Single();

        await purger.StartAsync(CancellationToken.None);
        await purger.ExecuteTask!.WaitAsync(Patience);

        Assert.Equal(0, Failures(logs));
        Assert.Contains(logs.GetSnapshot(), r => r.Message.Contains("disabled by InboxOptions.PurgeEnabled", StringComparison.Ordinal));
    }

    private static int Failures(FakeLogCollector logs)
        => logs.GetSnapshot().Count(r => r.Level == LogLevel.Error && r.Message.Contains("the pass failed", StringComparison.Ordinal));

    private static async Task WaitForAsync(Func<bool> condition, Action? eachTry = null)
    {
        using var timeout = new CancellationTokenSource(Patience);
        while (!condition())
        {
            eachTry?.Invoke();
            await Task.Delay(10, timeout.Token);
        }
    }
}

/// <summary>A store whose database cannot be opened.</summary>
public sealed class UnreachableStore : StoreFixture
{
    public override void Configure(DbContextOptionsBuilder options) => options.UseSqlite("Data Source=/nonexistent-dir/none.db;Mode=ReadOnly");

    public override Task InitializeAsync() => Task.CompletedTask;

    public override Task DisposeAsync() => Task.CompletedTask;
}
