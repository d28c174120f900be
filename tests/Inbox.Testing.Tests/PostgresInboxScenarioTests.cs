using Inbox.Testing.Tests.Support;
using Inbox.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Inbox.Testing.Tests;

/// <summary>The kit on PostgreSQL: copies really run at the same time, and writes through a second connection commit, so the crash check sees them.</summary>
public sealed class PostgresInboxScenarioTests(ITestOutputHelper output) : InboxScenarioContract(output)
{
    private PostgresDatabase? _database;

    protected override Action<DbContextOptionsBuilder> Database => o => o.UseNpgsql(_database!.ConnectionString);

    public override async Task InitializeAsync() => _database = await PostgresDatabase.CreateAsync("inbox_kit");

    public override async Task DisposeAsync() => await _database!.DisposeAsync();

    [Fact]
    public async Task SecondDbContext_IsCaughtByTheCrashCheck_WithTheRowThatEscaped()
    {
        var services = await ServicesAsync();

        var failure = Show(await Assert.ThrowsAsync<ExactlyOnceException>(() => InboxScenario.For<ShopDbContext>(services)
            .Handle<SecondDbContextHandler>("m-1", (h, ct) => h.HandleAsync(Placed, ct))
            .ShouldBeExactlyOnceAsync()));

        var crash = failure.Report!.Checks[0];
        Assert.False(crash.Passed);
        Assert.Contains("FAIL  Crash before the commit", failure.Message, StringComparison.Ordinal);
        Assert.Contains("1 row remained", crash.Detail, StringComparison.Ordinal);
        Assert.Contains("Orders: added Id=1, OrderId=\"order-1\"", crash.Detail, StringComparison.Ordinal);
        Assert.Contains("a second DbContext", crash.Detail, StringComparison.Ordinal);
        Assert.Equal(2, await CountOrdersAsync(services));
    }

    [Fact]
    public async Task ExecuteUpdateOutsideTheUnit_IsCaught_AsAChangedRow()
    {
        var services = await ServicesAsync();

        var failure = Show(await Assert.ThrowsAsync<ExactlyOnceException>(() => InboxScenario.For<ShopDbContext>(services)
            .Handle<CounterOutsideTheUnitHandler>("m-1", (h, ct) => h.HandleAsync(Placed, ct))
            .ShouldBeExactlyOnceAsync()));

        var crash = failure.Report!.Checks[0];
        Assert.False(crash.Passed);
        Assert.Contains("Counters: changed Id=1: Id=1, Value=0  ->  Id=1, Value=1", crash.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("Orders", crash.Detail, StringComparison.Ordinal);
        Assert.True(failure.Report.Checks[1].Passed, "the orders themselves are written once");
    }

    [Fact]
    public async Task EffectOfASaveInterceptor_IsCaught_TheCrashComesAfterTheSave()
    {
        // The handler is right; the application's save interceptor bumps a counter on a connection of its own. The
        // crash comes after the inbox's save, so the crashed delivery's save ran the interceptor too.
        var services = await ServicesAsync();
        services.AddDbContext<ShopDbContext>(o => o.AddInterceptors(new CountOrdersOnItsOwnConnection(_database!.ConnectionString)));

        var failure = Show(await Assert.ThrowsAsync<ExactlyOnceException>(() => InboxScenario.For<ShopDbContext>(services)
            .Handle<PlaceOrderHandler>("m-1", (h, ct) => h.HandleAsync(Placed, ct))
            .ShouldBeExactlyOnceAsync()));

        var crash = failure.Report!.Checks[0];
        Assert.False(crash.Passed);
        Assert.Contains("Counters: changed Id=1: Id=1, Value=0  ->  Id=1, Value=1", crash.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Copies_RunAtTheSameTime_OneProcessed()
    {
        var services = await ServicesAsync();

        var report = Show(await InboxScenario.For<ShopDbContext>(services)
            .Handle<PlaceOrderHandler>("m-1", (h, ct) => h.HandleAsync(new OrderPlaced("order-1", 1m), ct))
            .ShouldBeExactlyOnceAsync());

        Assert.StartsWith("8 copies at the same time: 1 Processed, 7 Duplicate.", report.Checks[1].Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SecondDbContext_UnderOneRoundTripWithoutLookup_IsCaughtOnTheRedeliveryToo()
    {
        // Without the lookup a copy runs its handler and the inbox row's key rolls the unit back: the unit's writes
        // vanish, the second DbContext's stay, once per copy.
        var services = await ServicesAsync(o =>
        {
            o.OneRoundTrip = true;
            o.OneRoundTripLookup = InboxLookup.Never;
        });

        var failure = Show(await Assert.ThrowsAsync<ExactlyOnceException>(() => InboxScenario.For<ShopDbContext>(services)
            .WithConcurrentCopies(4)
            .Handle<SecondDbContextHandler>("m-1", (h, ct) => h.HandleAsync(new OrderPlaced("order-1", 1m), ct))
            .ShouldBeExactlyOnceAsync()));

        var checks = failure.Report!.Checks;
        Assert.False(checks[0].Passed);
        Assert.Contains("Orders: added", checks[1].Detail, StringComparison.Ordinal);
        Assert.False(checks[2].Passed);
        Assert.Contains("Delivered again: Duplicate, and 1 row changed", checks[2].Detail, StringComparison.Ordinal);
        Assert.Equal(1 + 4 + 1, await CountOrdersAsync(services));
    }

    /// <summary>An application's save interceptor that counts new orders with an UPDATE on a connection of its own.</summary>
    private sealed class CountOrdersOnItsOwnConnection(string connectionString) : Microsoft.EntityFrameworkCore.Diagnostics.SaveChangesInterceptor
    {
        public override async ValueTask<Microsoft.EntityFrameworkCore.Diagnostics.InterceptionResult<int>> SavingChangesAsync(
            Microsoft.EntityFrameworkCore.Diagnostics.DbContextEventData eventData, Microsoft.EntityFrameworkCore.Diagnostics.InterceptionResult<int> result, CancellationToken cancellationToken = default)
        {
            if (eventData.Context!.ChangeTracker.Entries<Order>().Any(e => e.State == EntityState.Added))
            {
                await using var connection = new Npgsql.NpgsqlConnection(connectionString);
                await connection.OpenAsync(cancellationToken);
                await using var command = new Npgsql.NpgsqlCommand("UPDATE \"Counters\" SET \"Value\" = \"Value\" + 1 WHERE \"Id\" = 1", connection);
                await command.ExecuteNonQueryAsync(cancellationToken);
            }

            return result;
        }
    }
}
