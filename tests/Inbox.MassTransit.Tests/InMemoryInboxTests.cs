using Inbox.MassTransit.Tests.Support;
using Inbox.TestSupport;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Inbox.MassTransit.Tests;

/// <summary>The filter on the in-memory transport and SQLite: fast, no servers.</summary>
public sealed class InMemoryInboxTests : IDisposable
{
    private static readonly Uri Orders = new("queue:orders");

    private readonly SqliteDatabase _database = new();
    private readonly FaultLog _faults = new();

    public void Dispose() => _database.Dispose();

    [Fact]
    public async Task Send_NewMessage_ConsumerWritesAreCommittedWithTheInboxRecord()
    {
        await using var host = await CreateSut();

        await host.Bus.SendOrderAsync(Orders, "o-1", NewId.NextGuid());

        await Eventually.WaitAsync(async () => await host.ShippedCountAsync() == 1, "the consumer's row is committed");
        Assert.Equal(1, await host.InboxCountAsync());
    }

    [Fact]
    public async Task Send_SameMessageIdTwice_ConsumerRunsOnceAndNothingFaults()
    {
        var outcomes = new System.Collections.Concurrent.ConcurrentBag<(string? MessageId, string? Outcome)>();
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => source.Name == "MassTransit",
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a => outcomes.Add((a.GetTagItem("messaging.masstransit.message_id") as string, a.GetTagItem("inbox.outcome") as string)),
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        await using var host = await CreateSut();
        var id = NewId.NextGuid();

        await host.Bus.SendOrderAsync(Orders, "o-1", id);
        await host.Bus.SendOrderAsync(Orders, "o-1", id);
        await host.Bus.SendOrderAsync(Orders, "o-2", NewId.NextGuid());

        await Eventually.WaitAsync(async () => await host.InboxCountAsync() == 2, "both distinct IDs are recorded");
        await host.Services.GetRequiredService<IBusControl>().StopAsync();
        Assert.Equal(2, await host.ShippedCountAsync());
        Assert.Equal(2, host.Probe.Calls);
        Assert.Empty(_faults.Faults);

        // The consume activity says what the inbox did with each delivery of the repeated ID.
        Assert.Equal(
            ["Duplicate", "Processed"],
            outcomes.Where(o => o.MessageId == id.ToString() && o.Outcome is not null).Select(o => o.Outcome!).Order());
    }

    [Fact]
    public async Task ConsumerKey_Default_IsEndpointNameSlashConsumerType()
    {
        await using var host = await CreateSut();

        Assert.Equal("orders/Inbox.MassTransit.Tests.Support.ShipOrderConsumer", await RecordedConsumerKeyAsync(host));
    }

    [Fact]
    public async Task ConsumerKey_Overridden_IsRecorded()
    {
        await using var host = await CreateSut(configure: o => o.ConsumerKey = (endpoint, type) => $"v2:{endpoint}:{type.Name}");

        Assert.Equal("v2:orders:ShipOrderConsumer", await RecordedConsumerKeyAsync(host));
    }

    [Fact]
    public async Task UseInbox_WithoutRegistrationContext_FindsTheInboxInTheMessageScope()
    {
        await using var host = await CreateSut(useInbox: (cfg, _) => cfg.UseInbox());
        var id = NewId.NextGuid();

        await host.Bus.SendOrderAsync(Orders, "o-1", id);
        await host.Bus.SendOrderAsync(Orders, "o-1", id);

        await Eventually.WaitAsync(async () => await host.InboxCountAsync() == 1, "the ID is recorded");
        await host.Services.GetRequiredService<IBusControl>().StopAsync();
        Assert.Equal(1, await host.ShippedCountAsync());
    }

    [Fact]
    public async Task Start_WithoutAddInbox_FailsNamingTheCallThatFixesIt()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => CreateSut(useInbox: (cfg, context) => cfg.UseInbox<ShopDbContext>(context), addInbox: false));

        Assert.Contains("No inbox is registered for ShopDbContext: call services.AddInbox<ShopDbContext>() before AddMassTransit", Flatten(error));
    }

    [Fact]
    public async Task Start_WithTwoInboxesAndNoneNamed_FailsAskingForTheGenericOverload()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => CreateSut(
            services: s => s.AddDbContext<OtherDbContext>(o => o.UseSqlite(_database.ConnectionString)).AddInbox<OtherDbContext>()));

        Assert.Contains("Several inboxes are registered (ShopDbContext, OtherDbContext): name one with cfg.UseInbox<ShopDbContext>(context)", Flatten(error));
    }

    [Fact]
    public async Task Start_WithTwoInboxesAndOneNamed_UsesIt()
    {
        await using var host = await CreateSut(
            useInbox: (cfg, context) => cfg.UseInbox<ShopDbContext>(context),
            services: s => s.AddDbContext<OtherDbContext>(o => o.UseSqlite(_database.ConnectionString)).AddInbox<OtherDbContext>());

        await host.Bus.SendOrderAsync(Orders, "o-1", NewId.NextGuid());

        await Eventually.WaitAsync(async () => await host.InboxCountAsync() == 1, "the ID is recorded in ShopDbContext's inbox");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Retry_ConsumerFailsTwice_EachAttemptIsAFreshTransactionAndOneEffectCommits(bool retryConfiguredFirst)
    {
        await using var host = await CreateSut(retry: true, retryFirst: retryConfiguredFirst);
        var attempts = 0;
        host.Probe.Failure = _ => Interlocked.Increment(ref attempts) <= 2 ? new InvalidOperationException("transient") : null;

        await host.Bus.SendOrderAsync(Orders, "o-1", NewId.NextGuid());

        await Eventually.WaitAsync(async () => await host.InboxCountAsync() == 1, "the third attempt commits");
        Assert.Equal(3, host.Probe.Calls);
        Assert.Equal(1, await host.ShippedCountAsync());
        Assert.Empty(_faults.Faults);
    }

    [Fact]
    public async Task MessageIdSelector_IdFromTheMessage_TwoSendsOfOneOrderTakeEffectOnce()
    {
        await using var host = await CreateSut(configure: o => o.MessageIdSelector = m => (m as OrderPlaced)?.OrderId);

        // Two sends with MassTransit MessageIds of their own, as a producer that retries without keeping the ID would.
        await host.Bus.SendOrderAsync(Orders, "order-123", NewId.NextGuid());
        await host.Bus.SendOrderAsync(Orders, "order-123", NewId.NextGuid());
        await host.Bus.SendOrderAsync(Orders, "order-456", NewId.NextGuid());

        await Eventually.WaitAsync(async () => await host.InboxCountAsync() == 2, "both orders are recorded");
        await host.Services.GetRequiredService<IBusControl>().StopAsync();
        Assert.Equal(["order-123", "order-456"], await host.QueryAsync(db => db.Database.SqlQueryRaw<string>("SELECT message_id AS \"Value\" FROM inbox_messages ORDER BY 1").ToListAsync()));
        Assert.Equal(2, await host.ShippedCountAsync());
        Assert.Empty(_faults.Faults);
    }

    [Fact]
    public async Task Fingerprints_SameIdOtherContentUnderSkipPolicy_IsSkippedNotFaulted()
    {
        await using var host = await CreateSut(configure: o => o.ComputeFingerprints = true, services: s => s.Configure<InboxOptions>(o => o.ConflictPolicy = ConflictPolicy.Skip));
        var id = NewId.NextGuid();

        await host.Bus.SendOrderAsync(Orders, "o-1", id);
        await Eventually.WaitAsync(async () => await host.InboxCountAsync() == 1, "the first copy is recorded");
        await host.Bus.SendOrderAsync(Orders, "other-content", id);
        await host.Bus.SendOrderAsync(Orders, "o-2", NewId.NextGuid());

        await Eventually.WaitAsync(async () => await host.InboxCountAsync() == 2, "the next message is recorded");
        await host.Services.GetRequiredService<IBusControl>().StopAsync();
        Assert.Empty(_faults.Faults);
        Assert.Equal(2, await host.ShippedCountAsync());
        Assert.DoesNotContain("other-content", host.Probe.OrderIds);
    }

    [Fact]
    public async Task Fingerprints_SameIdOtherContent_GoesToTheErrorQueueAsAConflict()
    {
        await using var host = await CreateSut(configure: o => o.ComputeFingerprints = true);
        var id = NewId.NextGuid();

        await host.Bus.SendOrderAsync(Orders, "o-1", id);
        await Eventually.WaitAsync(async () => await host.InboxCountAsync() == 1, "the first copy is recorded");
        await host.Bus.SendOrderAsync(Orders, "o-1", id);
        await host.Bus.SendOrderAsync(Orders, "other-content", id);

        await Eventually.WaitAsync(() => !_faults.Faults.IsEmpty, "the reused ID reaches the error queue");
        var fault = Assert.Single(_faults.Faults);
        Assert.Equal("other-content", fault.OrderId);
        Assert.Contains("with other content", fault.Reason, StringComparison.Ordinal);
        Assert.Equal(1, await host.ShippedCountAsync());
    }

    /// <summary>Sends one message and returns the consumer key the inbox recorded for it.</summary>
    private static async Task<string> RecordedConsumerKeyAsync(TestHost host)
    {
        await host.Bus.SendOrderAsync(Orders, "o-1", NewId.NextGuid());
        await Eventually.WaitAsync(async () => await host.InboxCountAsync() == 1, "the ID is recorded");
        return await host.QueryAsync(db => db.Database.SqlQueryRaw<string>("SELECT consumer AS \"Value\" FROM inbox_messages").SingleAsync());
    }

    private static string Flatten(Exception error) => error.ToString();

    private Task<TestHost> CreateSut(
        Action<IInMemoryBusFactoryConfigurator, IBusRegistrationContext>? useInbox = null,
        Action<InboxConsumeOptions>? configure = null,
        Action<IServiceCollection>? services = null,
        bool addInbox = true,
        bool retry = false,
        bool retryFirst = true)
        => TestHost.StartAsync(
            TestHost.Sqlite(_database.ConnectionString),
            x =>
            {
                x.AddConsumer<ShipOrderConsumer>();
                x.UsingInMemory((context, cfg) =>
                {
                    if (retry && retryFirst)
                    {
                        cfg.UseMessageRetry(r => r.Immediate(3));
                    }

                    if (useInbox is null)
                    {
                        cfg.UseInbox(context, configure);
                    }
                    else
                    {
                        useInbox(cfg, context);
                    }

                    if (retry && !retryFirst)
                    {
                        cfg.UseMessageRetry(r => r.Immediate(3));
                    }

                    cfg.ReceiveEndpoint("orders", e => e.ConfigureConsumer<ShipOrderConsumer>(context));
                    _faults.Listen(cfg, "orders");
                });
            },
            services,
            addInbox);
}
