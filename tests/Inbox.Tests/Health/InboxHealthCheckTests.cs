using Inbox.Tests.Contract;
using Inbox.Tests.Purging;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Inbox.Tests.Health;

public sealed class InboxHealthCheckTests(SqliteStoreFixture store) : IClassFixture<SqliteStoreFixture>
{
    [Fact]
    public async Task CheckHealthAsync_ReachableAndPurged_IsHealthy()
    {
        await using var sut = CreateSut(store);
        await sut.ProcessAsync("health-" + Guid.NewGuid().ToString("N"), "m-1");

        var report = await CheckAsync(sut);

        Assert.True(report.Status == HealthStatus.Healthy, $"{report.Status}: {report.Entries["inbox"].Description} {report.Entries["inbox"].Exception}");
    }

    [Fact]
    public async Task CheckHealthAsync_OldestRecordBeyondWindowAndTwoIntervals_IsDegraded()
    {
        await using var sut = CreateSut(store);
        await sut.ProcessAsync("health-old", "m-1");
        sut.Time.Advance(TimeSpan.FromHours(25));

        var report = await CheckAsync(sut);

        Assert.Equal(HealthStatus.Degraded, report.Status);
        Assert.Contains("purger is falling behind", report.Entries["inbox"].Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckHealthAsync_StoreUnreachable_IsUnhealthy()
    {
        await using var sut = CreateSut(new UnreachableStore());

        var report = await CheckAsync(sut);

        Assert.Equal(HealthStatus.Unhealthy, report.Status);
        Assert.NotNull(report.Entries["inbox"].Exception);
    }

    private static InboxHarness CreateSut(StoreFixture store) => new(
        store,
        o =>
        {
            o.DeduplicationWindow = TimeSpan.FromHours(24);
            o.PurgeInterval = TimeSpan.FromMinutes(1);
        },
        more: services => services.AddHealthChecks().AddInbox<TestDbContext>());

    private static Task<HealthReport> CheckAsync(InboxHarness sut)
        => sut.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
}
