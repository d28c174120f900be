using Inbox.Testing.Tests.Support;
using Inbox.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Inbox.Testing.Tests;

/// <summary>The kit on SQLite, the embedded default: copies run one after another, and the report says so.</summary>
public sealed class SqliteInboxScenarioTests(ITestOutputHelper output) : InboxScenarioContract(output)
{
    private readonly SqliteDatabase _database = new();

    protected override Action<DbContextOptionsBuilder> Database => o => o.UseSqlite(_database.ConnectionString);

    public override Task InitializeAsync() => Task.CompletedTask;

    public override Task DisposeAsync()
    {
        _database.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Copies_RunOneAfterAnother_AndTheReportSaysSo()
    {
        var services = await ServicesAsync();

        var report = Show(await InboxScenario.For<ShopDbContext>(services)
            .WithConcurrentCopies(3)
            .Handle<PlaceOrderHandler>("m-1", (h, ct) => h.HandleAsync(new OrderPlaced("order-1", 1m), ct))
            .ShouldBeExactlyOnceAsync());

        Assert.StartsWith("3 copies, one after another (SQLite has one writer", report.Checks[1].Detail, StringComparison.Ordinal);
        Assert.Contains("1 Processed, 2 Duplicate.", report.Checks[1].Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HandlerThatNeverReturns_IsReportedStuckAfter30Seconds_NotWaitedForForEver()
    {
        var services = await ServicesAsync();
        var never = new TaskCompletionSource();

        // The handler ignores its token, as a call without one would: only the scenario's own timeout ends the wait.
        var failure = Show(await Assert.ThrowsAsync<ExactlyOnceException>(() => InboxScenario.For<ShopDbContext>(services)
            .Handle("m-1", (db, ct) => never.Task)
            .ShouldBeExactlyOnceAsync()));

        var crash = Assert.Single(failure.Report!.Checks);
        Assert.False(crash.Passed);
        Assert.Contains("The delivery did not finish within 30 s", crash.Detail, StringComparison.Ordinal);
        never.SetResult();
    }

    [Fact]
    public async Task SecondDbContext_WaitsForTheUnitsLock_AndTheReportShowsTheLockError()
    {
        // SQLite has one writer and the unit holds it: the second DbContext's save waits out the busy timeout (1 s here).
        var services = await ServicesAsync();
        services.AddDbContext<ShopDbContext>(o => o.UseSqlite(_database.ConnectionString.Replace("Default Timeout=60", "Default Timeout=1", StringComparison.Ordinal)));

        var failure = Show(await Assert.ThrowsAsync<ExactlyOnceException>(() => InboxScenario.For<ShopDbContext>(services)
            .Handle<SecondDbContextHandler>("m-1", (h, ct) => h.HandleAsync(new OrderPlaced("order-1", 1m), ct))
            .ShouldBeExactlyOnceAsync()));

        Assert.Contains("The handler threw before the simulated crash", failure.Message, StringComparison.Ordinal);
        Assert.Contains("database is locked", failure.Message, StringComparison.Ordinal);
        Assert.Equal(0, await CountOrdersAsync(services));
    }
}
