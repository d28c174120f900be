using System.Diagnostics;
using System.Text;
using Inbox.Tests.Contract;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Inbox.Tests.Outbox;

/// <summary>What an operator sees of the outbox: counters, latency, the backlog gauges, the health check, the trace.</summary>
public sealed class OutboxTelemetryTests(SqliteOutboxStoreFixture store) : IClassFixture<SqliteOutboxStoreFixture>
{
    private readonly FakeTransport _transport = new();

    [Fact]
    public async Task Dispatch_CountsSentAndFailed_RecordsLatencyAndTheBacklog()
    {
        await using var sut = CreateSut(o => o.MaxAttempts = 1);
        using var dispatched = sut.Collect("inbox.outbox.dispatched");
        using var failed = sut.Collect("inbox.outbox.failed");
        using var latency = sut.Collect<double>("inbox.outbox.dispatch_latency");
        using var pending = sut.Collect("inbox.outbox.pending");
        _transport.Answer = m => Encoding.UTF8.GetString(m.Body.Span) == "poison" ? OutboxDelivery.Refused("too large") : OutboxDelivery.Sent;
        await WriteAsync(sut, "one", "two", "poison");
        sut.Time.Advance(TimeSpan.FromSeconds(3));

        await sut.DispatchAsync();

        Assert.Equal(2, dispatched.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal(1, failed.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.All(latency.GetMeasurementSnapshot(), m => Assert.Equal(3, m.Value));
        Assert.Equal("fake", dispatched.LastMeasurement!.Tags["messaging.system"]);
        pending.RecordObservableInstruments();
        Assert.Equal(3, pending.LastMeasurement!.Value);
    }

    [Fact]
    public async Task HealthCheck_OldestPendingBeyondTheThreshold_IsDegraded_AndHealthyOnceSent()
    {
        await using var sut = CreateSut(o => o.PendingAgeThreshold = TimeSpan.FromMinutes(1));
        await using (var scope = sut.Services.CreateAsyncScope())
        {
            // Rows other tests of this class kept as failed would make it Degraded for another reason.
            await scope.ServiceProvider.GetRequiredService<TestDbContext>().Set<Inbox.Outbox.Storage.OutboxRecord>().ExecuteDeleteAsync();
        }

        await WriteAsync(sut, "waiting");
        var health = sut.Services.GetRequiredService<HealthCheckService>();

        sut.Time.Advance(TimeSpan.FromMinutes(2));
        var stale = await health.CheckHealthAsync();
        await DrainAsync(sut);
        var drained = await health.CheckHealthAsync();

        Assert.Equal(HealthStatus.Degraded, stale.Status);
        Assert.Contains("more than 00:01:00", stale.Entries["outbox"].Description, StringComparison.Ordinal);
        Assert.Equal(HealthStatus.Healthy, drained.Status);
    }

    [Fact]
    public async Task Dispatch_Activity_LinksToTheActivityThatWroteEachMessage()
    {
        var stopped = new System.Collections.Concurrent.ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "Inbox" or "test",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        using var source = new ActivitySource("test");
        await using var sut = CreateSut();
        await DrainAsync(sut);
        ActivityTraceId writer;
        using (var handling = source.StartActivity("handle order"))
        {
            writer = handling!.TraceId;
            await WriteAsync(sut, "traced");
        }

        await sut.DispatchAsync();

        // Other test classes dispatch at the same time: find this one's by its link to the writer's trace.
        Assert.Contains(stopped, a => a.OperationName == "outbox dispatch" && a.Kind == ActivityKind.Producer && a.Links.Any(link => link.Context.TraceId == writer));
    }

    private static async Task WriteAsync(InboxHarness sut, params string[] bodies)
    {
        await using var scope = sut.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TestDbContext>();
        foreach (var body in bodies)
        {
            db.Outbox().Add(new OutboxMessage("fake", "orders", Encoding.UTF8.GetBytes(body)) { PartitionKey = body });
        }

        await db.SaveChangesAsync();
    }

    private static async Task DrainAsync(InboxHarness sut)
    {
        while (await sut.DispatchAsync())
        {
        }
    }

    private InboxHarness CreateSut(Action<OutboxOptions>? configure = null) => new(store, more: s =>
    {
        s.AddOutbox<TestDbContext>(o =>
        {
            o.AddTransport("fake", _ => _transport);
            configure?.Invoke(o);
        });
        s.AddHealthChecks().AddOutbox<TestDbContext>();
    });
}
