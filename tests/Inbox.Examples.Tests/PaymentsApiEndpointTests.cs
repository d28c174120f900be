using Inbox.Testing;
using Inbox.TestSupport;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PaymentsApi;

namespace Inbox.Examples.Tests;

/// <summary>examples/PaymentsApi's POST /payments, in a WebApplicationFactory on PostgreSQL, proven to apply each key once.</summary>
public sealed class PaymentsApiEndpointTests : IAsyncLifetime
{
    private PostgresDatabase? _database;

    public async Task InitializeAsync() => _database = await PostgresDatabase.CreateAsync("inbox_example");

    public async Task DisposeAsync() => await _database!.DisposeAsync();

    [Fact]
    public async Task PostPayments_AppliesEachKeyOnce()
    {
        await using var factory = new WebApplicationFactory<Program>()
            .WithWebHostBuilder(b => b.UseSetting("ConnectionStrings:Payments", _database!.ConnectionString));

        var report = await IdempotencyScenario.For(factory.CreateClient())
            .Post("/payments", new { orderId = "o-1", amount = 100m })
            .CountingEffects(async ct =>
            {
                await using var scope = factory.Services.CreateAsyncScope();
                return await scope.ServiceProvider.GetRequiredService<PaymentsDbContext>().Payments.LongCountAsync(ct);
            })
            .CrashingBeforeTheCommit<PaymentsDbContext>(factory.Services)
            .ShouldBeExactlyOnceAsync();

        Assert.True(report.Passed, report.ToString());
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            Assert.True(scope.ServiceProvider.GetRequiredService<PaymentsDbContext>().Database.IsNpgsql(), "the API runs on the test's PostgreSQL database");
        }

        Assert.Contains("The effects rose by 1.", report.Checks[1].Detail, StringComparison.Ordinal);
        Assert.Equal("Crash before the commit", report.Checks[2].Name);
        Assert.Contains("the effects then rose by 0; the retry answered 201", report.Checks[2].Detail, StringComparison.Ordinal);
    }
}
