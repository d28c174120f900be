using Inbox.Testing.Tests.Support;
using Inbox.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Inbox.Testing.Tests;

/// <summary>
/// IdempotencyScenario against a real Kestrel server: an endpoint behind RequireIdempotencyKey passes on SQLite and
/// PostgreSQL; the same endpoint without it is caught, with the payments it made twice.
/// </summary>
public sealed class IdempotencyScenarioTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly SqliteDatabase _sqlite = new();
    private PostgresDatabase? _postgres;
    private WebApplication? _app;

    public async Task InitializeAsync() => _postgres = await PostgresDatabase.CreateAsync("inbox_kit_http");

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        await _postgres!.DisposeAsync();
        _sqlite.Dispose();
    }

    [Theory]
    [InlineData("SQLite")]
    [InlineData("PostgreSQL")]
    public async Task EndpointWithTheKey_Passes_EachKeyPaidOnce(string database)
    {
        var client = await StartAsync(database);

        var report = await IdempotencyScenario.For(client)
            .Post("/payments", new { orderId = "o-1", amount = 100m })
            .CountingEffects(CountPaymentsAsync)
            .ShouldBeExactlyOnceAsync();
        output.WriteLine(report.ToString());

        Assert.Equal(["Same request twice", "Concurrent copies", "Key reused with another body"], report.Checks.Select(c => c.Name));
        Assert.Contains("The effects rose by 1.", report.Checks[0].Detail, StringComparison.Ordinal);
        Assert.Equal(2, await CountPaymentsAsync(CancellationToken.None));
    }

    [Theory]
    [InlineData("SQLite")]
    [InlineData("PostgreSQL")]
    public async Task EndpointWithTheKey_KeepsNothingOfACrashedRequest_AndItsRetryRunsOnce(string database)
    {
        var client = await StartAsync(database);

        var report = await IdempotencyScenario.For(client)
            .Post("/payments", new { orderId = "o-1", amount = 100m })
            .CountingEffects(CountPaymentsAsync)
            .CrashingBeforeTheCommit<ShopDbContext>(_app!.Services)
            .ShouldBeExactlyOnceAsync();
        output.WriteLine(report.ToString());

        Assert.Equal(["Same request twice", "Concurrent copies", "Crash before the commit", "Key reused with another body"], report.Checks.Select(c => c.Name));
        Assert.Contains("The request failed just before its commit (500", report.Checks[2].Detail, StringComparison.Ordinal);
        Assert.Contains("the effects then rose by 0; the retry answered 201", report.Checks[2].Detail, StringComparison.Ordinal);

        // One payment per key: the first, the concurrent copies', the crashed request's retry.
        Assert.Equal(3, await CountPaymentsAsync(CancellationToken.None));
    }

    [Fact]
    public async Task EndpointWritingThroughASecondDbContext_IsCaughtByTheCrashCheck_ItsPaymentKept()
    {
        var client = await StartAsync("PostgreSQL");

        var failure = await Assert.ThrowsAsync<ExactlyOnceException>(() => IdempotencyScenario.For(client)
            .Post("/second-context", new { orderId = "o-1", amount = 100m })
            .CountingEffects(CountPaymentsAsync)
            .CrashingBeforeTheCommit<ShopDbContext>(_app!.Services)
            .ShouldBeExactlyOnceAsync());
        output.WriteLine(failure.Message);

        var checks = failure.Report!.Checks;
        Assert.Equal([true, true, false, true], checks.Select(c => c.Passed));
        Assert.Contains("the effects rose by 1: the endpoint wrote outside the key's transaction", checks[2].Detail, StringComparison.Ordinal);
        Assert.Contains("With the retry the effects rose by 2 in all (by 1 for one request)", checks[2].Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CrashWithoutCountingEffects_ThrowsSayingWhy()
    {
        var client = await StartAsync("SQLite");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => IdempotencyScenario.For(client)
            .Post("/payments", new { orderId = "o-1", amount = 100m })
            .CrashingBeforeTheCommit<ShopDbContext>(_app!.Services)
            .ShouldBeExactlyOnceAsync());

        Assert.Contains("CountingEffects", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, await CountPaymentsAsync(CancellationToken.None));
    }

    [Fact]
    public async Task EndpointWithoutTheKey_IsCaught_WithTheEffectsCounted()
    {
        var client = await StartAsync("PostgreSQL");

        var failure = await Assert.ThrowsAsync<ExactlyOnceException>(() => IdempotencyScenario.For(client)
            .Post("/unprotected", new { orderId = "o-1", amount = 100m })
            .WithConcurrentCopies(4)
            .CountingEffects(CountPaymentsAsync)
            .ShouldBeExactlyOnceAsync());
        output.WriteLine(failure.Message);

        var checks = failure.Report!.Checks;
        Assert.All(checks, c => Assert.False(c.Passed));
        Assert.Contains("The second answer is not the first one replayed", checks[0].Detail, StringComparison.Ordinal);
        Assert.Contains("The effects rose by 2 for one key", checks[0].Detail, StringComparison.Ordinal);
        Assert.Contains("4 of the 4 copies ran", checks[1].Detail, StringComparison.Ordinal);
        Assert.Contains("answered 201", checks[2].Detail, StringComparison.Ordinal);
    }

    private async Task<long> CountPaymentsAsync(CancellationToken cancellationToken)
    {
        await using var scope = _app!.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ShopDbContext>().Orders.LongCountAsync(cancellationToken);
    }

    private async Task<HttpClient> StartAsync(string database)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddDbContext<ShopDbContext>(o =>
        {
            if (database == "PostgreSQL")
            {
                o.UseNpgsql(_postgres!.ConnectionString);
            }
            else
            {
                o.UseSqlite(_sqlite.ConnectionString);
            }
        });
        builder.Services.AddInbox<ShopDbContext>();
        builder.Services.AddIdempotencyKeys<ShopDbContext>();
        _app = builder.Build();
        _app.UseIdempotencyKeys();
        _app.MapPost("/payments", Pay).RequireIdempotencyKey();
        _app.MapPost("/unprotected", Pay);
        _app.MapPost("/second-context", PayThroughASecondDbContext).RequireIdempotencyKey();
        await using (var scope = _app.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<ShopDbContext>().Database.EnsureCreatedAsync();
        }

        await _app.StartAsync();
        return new HttpClient { BaseAddress = new Uri(_app.Urls.First()) };
    }

    private static async Task<IResult> Pay(PaymentRequest request, ShopDbContext db)
    {
        var order = new Order { OrderId = request.OrderId, Amount = request.Amount };
        db.Orders.Add(order);
        await db.SaveChangesAsync();
        return Results.Created($"/payments/{order.Id}", new { order.Id, order.OrderId });
    }

    // Wrong: the payment is saved on a DbContext of its own scope, outside the key's transaction.
    private static async Task<IResult> PayThroughASecondDbContext(PaymentRequest request, IServiceScopeFactory scopes)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await Pay(request, scope.ServiceProvider.GetRequiredService<ShopDbContext>());
    }

    public sealed record PaymentRequest(string OrderId, decimal Amount);
}
