using Confluent.Kafka;
using Inbox.Testing.Tests.Support;
using Inbox.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Inbox.Testing.Tests;

/// <summary>
/// The kit on each database: right handlers pass, and a wrong one is caught with the reason in the report. Each test
/// starts from a new, empty database. Writes that escape through a second connection are PostgreSQL's tests: on SQLite
/// the unit holds the one write lock, so such a write waits for it and fails (<see cref="SqliteInboxScenarioTests"/>).
/// </summary>
public abstract class InboxScenarioContract(ITestOutputHelper output) : IAsyncLifetime
{
    protected static readonly OrderPlaced Placed = new("order-1", 100m);

    protected abstract Action<DbContextOptionsBuilder> Database { get; }

    public abstract Task InitializeAsync();

    public abstract Task DisposeAsync();

    [Fact]
    public async Task RightHandler_Passes_AndCapturesItsOutboxMessageOnce()
    {
        var services = await ServicesAsync();

        var report = Show(await InboxScenario.For<ShopDbContext>(services)
            .Handle<PlaceOrderHandler>("m-1", (h, ct) => h.HandleAsync(Placed, ct))
            .ShouldBeExactlyOnceAsync());

        Assert.True(report.Passed, report.ToString());
        Assert.Equal(["Crash before the commit", "Concurrent copies", "Redelivered", "Calls outside the database"], report.Checks.Select(c => c.Name));
        var message = Assert.Single(report.Outbox);
        Assert.Equal(("test", "shipping", "order-1"), (message.Transport, message.Destination, message.PartitionKey));
        Assert.Equal("order-1"u8.ToArray(), message.Body.ToArray());
        Assert.Contains("Orders: added", report.Checks[1].Detail, StringComparison.Ordinal);
        Assert.Equal(1, await CountOrdersAsync(services));
    }

    [Fact]
    public async Task HandlerThatOnlyReads_Passes()
    {
        var services = await ServicesAsync();

        var report = Show(await InboxScenario.For<ShopDbContext>(services)
            .Handle<CountOrdersHandler>("m-1", (h, ct) => h.HandleAsync(ct))
            .ShouldBeExactlyOnceAsync());

        Assert.True(report.Passed, report.ToString());
        Assert.Empty(report.Outbox);
        Assert.Contains("changed no table", report.Checks[1].Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HttpPostWithoutAKey_IsCaught_ListingEachDeliveryThatSentIt()
    {
        var services = await ServicesAsync();
        AddPaymentService(services);

        var failure = Show(await Assert.ThrowsAsync<ExactlyOnceException>(() => InboxScenario.For<ShopDbContext>(services)
            .Handle<ChargeOverHttpHandler>("m-1", (h, ct) => h.HandleAsync(Placed, idempotencyKey: null, ct))
            .ShouldBeExactlyOnceAsync()));

        var checks = failure.Report!.Checks;
        Assert.True(checks[0].Passed && checks[1].Passed && checks[2].Passed, "the database writes are exactly-once");
        Assert.False(checks[3].Passed);
        Assert.Contains("2 requests or messages that change something went out", checks[3].Detail, StringComparison.Ordinal);
        Assert.Contains("POST http://payments.test/charges, in the crashed delivery", checks[3].Detail, StringComparison.Ordinal);
        Assert.Contains("POST http://payments.test/charges, in copy ", checks[3].Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HttpPostWithTheSameKeyEachTime_Passes()
    {
        var services = await ServicesAsync();
        AddPaymentService(services);

        var report = Show(await InboxScenario.For<ShopDbContext>(services)
            .Handle<ChargeOverHttpHandler>("m-1", (h, ct) => h.HandleAsync(Placed, idempotencyKey: "m-1", ct))
            .ShouldBeExactlyOnceAsync());

        Assert.Contains("carried the same key every time (its Idempotency-Key or message ID)", report.Checks[3].Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HttpGet_IsNoEscape()
    {
        var services = await ServicesAsync();
        AddPaymentService(services);

        var report = Show(await InboxScenario.For<ShopDbContext>(services)
            .Handle<LookUpOverHttpHandler>("m-1", (h, ct) => h.HandleAsync(Placed, ct))
            .ShouldBeExactlyOnceAsync());

        Assert.StartsWith("Only reads went out", report.Checks[3].Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TransactionOfTheHandlersOwn_IsReported_WithTheHandlersError()
    {
        var services = await ServicesAsync();

        var failure = Show(await Assert.ThrowsAsync<ExactlyOnceException>(() => InboxScenario.For<ShopDbContext>(services)
            .Handle<OwnTransactionHandler>("m-1", (h, ct) => h.HandleAsync(Placed, ct))
            .ShouldBeExactlyOnceAsync()));

        Assert.Contains("The handler threw before the simulated crash", failure.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(InvalidOperationException), failure.Message, StringComparison.Ordinal);
        Assert.Equal(0, await CountOrdersAsync(services));
    }

    [Fact]
    public async Task MessageTheDatabaseHasSeen_IsReported_NotPassed()
    {
        var services = await ServicesAsync();
        await InboxScenario.For<ShopDbContext>(services).Handle<PlaceOrderHandler>("m-1", (h, ct) => h.HandleAsync(Placed, ct)).ShouldBeExactlyOnceAsync();

        var failure = Show(await Assert.ThrowsAsync<ExactlyOnceException>(() => InboxScenario.For<ShopDbContext>(services)
            .Handle<PlaceOrderHandler>("m-1", (h, ct) => h.HandleAsync(Placed, ct))
            .ShouldBeExactlyOnceAsync()));

        Assert.Contains("The first delivery was a Duplicate", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutAddInbox_ThrowsNamingTheCall()
    {
        var services = new ServiceCollection();
        services.AddDbContext<ShopDbContext>(Database);

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => InboxScenario.For<ShopDbContext>(services)
            .Handle("m-1", (_, _) => Task.CompletedTask)
            .ShouldBeExactlyOnceAsync());

        Assert.Contains("services.AddInbox<ShopDbContext>()", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HttpPostWithANewKeyEachCall_IsCaught_TheKeysDiffer()
    {
        var services = await ServicesAsync();
        AddPaymentService(services);

        var failure = Show(await Assert.ThrowsAsync<ExactlyOnceException>(() => InboxScenario.For<ShopDbContext>(services)
            .Handle<ChargeOverHttpHandler>("m-1", (h, ct) => h.HandleAsync(Placed, idempotencyKey: Guid.NewGuid().ToString(), ct))
            .ShouldBeExactlyOnceAsync()));

        var checks = failure.Report!.Checks;
        Assert.False(checks[3].Passed);
        Assert.Contains("2 requests or messages that change something went out", checks[3].Detail, StringComparison.Ordinal);
        Assert.Contains("(Idempotency-Key: ", checks[3].Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HttpPostWithAClientMadeWithNew_IsCaught_FromTheDiagnosticEvents()
    {
        var services = await ServicesAsync();
        await using var paymentService = await PaymentService.StartAsync();
        services.AddSingleton(new PaymentServiceAddress(paymentService.Address));

        var failure = Show(await Assert.ThrowsAsync<ExactlyOnceException>(() => InboxScenario.For<ShopDbContext>(services)
            .Handle<ChargeWithANewHttpClientHandler>("m-1", (h, ct) => h.HandleAsync(Placed, ct))
            .ShouldBeExactlyOnceAsync()));

        var checks = failure.Report!.Checks;
        Assert.True(checks[0].Passed && checks[1].Passed && checks[2].Passed, "the database writes are exactly-once");
        Assert.Contains("2 requests or messages that change something went out", checks[3].Detail, StringComparison.Ordinal);
        Assert.Contains($"POST {paymentService.Address}charges, in the crashed delivery", checks[3].Detail, StringComparison.Ordinal);
        Assert.Equal(2, paymentService.Charges);
    }

    [Fact]
    public async Task KafkaProduceFromTheContainersProducer_IsCaught_AndTheCrashedDeliverysRecordReallyWentOut()
    {
        var services = await ServicesAsync();
        using var kafka = AddInvoiceProducer(services);

        var failure = Show(await Assert.ThrowsAsync<ExactlyOnceException>(() => InboxScenario.For<ShopDbContext>(services)
            .Handle<ProduceInvoiceHandler>("m-1", (h, ct) => h.HandleAsync(Placed, messageId: null, ct))
            .ShouldBeExactlyOnceAsync()));

        var checks = failure.Report!.Checks;
        Assert.True(checks[0].Passed && checks[1].Passed && checks[2].Passed, "the database writes are exactly-once");
        Assert.False(checks[3].Passed);
        Assert.Contains("Produce invoices, in the crashed delivery", checks[3].Detail, StringComparison.Ordinal);
        Assert.Contains("Produce invoices, in copy ", checks[3].Detail, StringComparison.Ordinal);

        // The proxy passed the calls on: the record of the delivery that rolled back is on the topic with the other one.
        Assert.Equal(2, kafka.CountRecords("invoices"));
    }

    [Fact]
    public async Task KafkaProduceWithTheSameMessageIdEachTime_Passes()
    {
        var services = await ServicesAsync();
        using var kafka = AddInvoiceProducer(services);

        var report = Show(await InboxScenario.For<ShopDbContext>(services)
            .Handle<ProduceInvoiceHandler>("m-1", (h, ct) => h.HandleAsync(Placed, messageId: "invoice-m-1", ct))
            .ShouldBeExactlyOnceAsync());

        Assert.Contains("Produce invoices (message ID: invoice-m-1), in the crashed delivery", report.Checks[3].Detail, StringComparison.Ordinal);
    }

    protected async Task<ServiceCollection> ServicesAsync(Action<InboxOptions>? inbox = null)
    {
        var services = new ServiceCollection();
        services.AddDbContext<ShopDbContext>(Database);
        services.AddInbox<ShopDbContext>(o => inbox?.Invoke(o));
        services.AddOutbox<ShopDbContext>(o => o.AddTransport("test", _ => new UnusedTransport()));
        await Schema.CreateAsync<ShopDbContext>(services);
        return services;
    }

    /// <summary>Shows a report in the test's output, as a user would read it.</summary>
    protected T Show<T>(T failureOrReport)
        where T : notnull
    {
        output.WriteLine(failureOrReport is Exception e ? e.Message : failureOrReport.ToString());
        return failureOrReport;
    }

    // The application's producer, a singleton from a factory, on an in-process mock cluster.
    private static InvoiceTopic AddInvoiceProducer(IServiceCollection services)
    {
        var topic = new InvoiceTopic();
        services.AddSingleton(_ => new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = topic.Cluster.BootstrapServers }).Build());
        return topic;
    }

    private static void AddPaymentService(IServiceCollection services)
        => services.AddHttpClient("payments", c => c.BaseAddress = new Uri("http://payments.test/"))
            .ConfigurePrimaryHttpMessageHandler(() => new PaymentServiceStub());

    protected static async Task<int> CountOrdersAsync(IServiceCollection services)
    {
        await using var provider = services.BuildServiceProvider();
        await using var scope = provider.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ShopDbContext>().Orders.CountAsync();
    }
}

/// <summary>The outbox's transport, never called: a scenario starts no hosted service, so nothing is dispatched.</summary>
internal sealed class UnusedTransport : IOutboxTransport
{
    public Task<IReadOnlyList<OutboxDelivery>> SendAsync(IReadOnlyList<OutboxEnvelope> messages, CancellationToken cancellationToken)
        => throw new InvalidOperationException("A scenario must not dispatch the outbox.");
}
