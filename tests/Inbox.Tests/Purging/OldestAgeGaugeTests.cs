using System.Diagnostics.Metrics;
using Inbox.Purging;
using Inbox.Tests.Contract;
using Inbox.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace Inbox.Tests.Purging;

public sealed class OldestAgeGaugeTests
{
    [Fact]
    public async Task PurgeAsync_TwoDbContexts_ReportTheOldestAgeOfEachTableUnderItsOwnTag()
    {
        using var first = new SqliteDatabase();
        using var second = new SqliteDatabase();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        services.AddLogging();
        services.AddDbContext<TestDbContext>(o => o.UseSqlite(first.ConnectionString));
        services.AddDbContext<OtherDbContext>(o => o.UseSqlite(second.ConnectionString));
        services.AddInbox<TestDbContext>();
        services.AddInbox<OtherDbContext>();
        await using var provider = services.BuildServiceProvider();
        using var gauge = new MetricCollector<double>(provider.GetRequiredService<IMeterFactory>(), "Inbox", "inbox.records.oldest_age");

        await using (var scope = provider.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<TestDbContext>().Database.EnsureCreatedAsync();
            await scope.ServiceProvider.GetRequiredService<OtherDbContext>().Database.EnsureCreatedAsync();
            await scope.ServiceProvider.GetRequiredService<IInbox<TestDbContext>>().ProcessAsync("c", "m-1", (_, _) => Task.CompletedTask);
        }

        time.Advance(TimeSpan.FromHours(3));
        await using (var scope = provider.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<IInbox<OtherDbContext>>().ProcessAsync("c", "m-1", (_, _) => Task.CompletedTask);
        }

        time.Advance(TimeSpan.FromHours(1));
        foreach (var purger in provider.GetServices<IHostedService>().OfType<BackgroundService>())
        {
            await (purger switch
            {
                InboxPurger<TestDbContext> p => p.PurgeAsync(CancellationToken.None),
                InboxPurger<OtherDbContext> p => p.PurgeAsync(CancellationToken.None),
                _ => Task.FromResult(0L),
            });
        }

        gauge.RecordObservableInstruments();
        var byTable = gauge.GetMeasurementSnapshot().ToDictionary(m => (string)m.Tags["inbox.table"]!, m => m.Value);
        Assert.Equal(
            new Dictionary<string, double> { ["inbox_messages"] = TimeSpan.FromHours(4).TotalSeconds, ["other_inbox"] = TimeSpan.FromHours(1).TotalSeconds },
            byTable);
    }

    private sealed class OtherDbContext(DbContextOptions<OtherDbContext> options) : DbContext(options)
    {
        protected override void OnModelCreating(ModelBuilder modelBuilder) => modelBuilder.AddInbox(t => t.TableName = "other_inbox");
    }
}
