using Inbox.Testing.Delivering;
using Inbox.Testing.Escapes;
using Inbox.Testing.MassTransit.Delivering;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Inbox.Testing;

/// <summary>
/// One message for the application's MassTransit consumer, published by <see cref="ShouldBeExactlyOnceAsync"/> in the
/// sequences that break consumers which are not exactly-once. Start one with <see cref="MassTransitScenario.For{TDbContext}"/>.
/// </summary>
/// <typeparam name="TDbContext">The application's DbContext.</typeparam>
public sealed class MassTransitScenario<TDbContext>
    where TDbContext : DbContext
{
    private readonly IServiceCollection _services;
    private readonly Action<IBusRegistrationConfigurator> _configure;
    private int _copies = 8;
    private object? _message;
    private Type? _messageType;

    internal MassTransitScenario(IServiceCollection services, Action<IBusRegistrationConfigurator> configure)
    {
        _services = services;
        _configure = configure;
    }

    /// <summary>Sets how many copies are published at the same time (at least 2; the default is 8). On SQLite they go one after another.</summary>
    /// <param name="copies">The number of copies.</param>
    /// <returns>This scenario.</returns>
    public MassTransitScenario<TDbContext> WithConcurrentCopies(int copies)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(copies, 2);
        _copies = copies;
        return this;
    }

    /// <summary>Gives the message; every delivery publishes it under one message ID, as a broker's redelivery or a producer's retry does.</summary>
    /// <typeparam name="TMessage">The message type the consumer consumes.</typeparam>
    /// <param name="message">The message.</param>
    /// <returns>This scenario.</returns>
    public MassTransitScenario<TDbContext> Send<TMessage>(TMessage message)
        where TMessage : class
    {
        ArgumentNullException.ThrowIfNull(message);
        _message = message;
        _messageType = typeof(TMessage);
        return this;
    }

    /// <summary>
    /// Starts an in-memory bus with the consumers and <c>cfg.UseInbox(context)</c> on their endpoints, and runs the
    /// checks of <c>InboxScenario</c>: a crash before the commit (the consumer ran and the inbox saved its writes, then
    /// the unit fails just before its commit), concurrent copies, the message again, and the effects that left outside
    /// the unit: HTTP calls made through <c>IHttpClientFactory</c>, messages published or sent on the bus itself rather
    /// than through the outbox. The database must have the application's schema. The in-memory transport has no
    /// redelivered flag.
    /// </summary>
    /// <param name="cancellationToken">Cancels the scenario.</param>
    /// <returns>The report of a scenario that passed, with the outbox messages the consumer wrote.</returns>
    /// <exception cref="ExactlyOnceException">A check failed; its message is the report.</exception>
    /// <exception cref="InvalidOperationException">No message was given, or the services have no <c>AddInbox&lt;TDbContext&gt;()</c>.</exception>
    public async Task<ExactlyOnceReport> ShouldBeExactlyOnceAsync(CancellationToken cancellationToken = default)
    {
        if (_message is null || _messageType is null)
        {
            throw new InvalidOperationException("Give the message first: .Send(message).");
        }

        var provider = ScenarioServices.Build<TDbContext>(_services, services =>
        {
            services.AddMassTransit(x =>
            {
                _configure(x);
                x.UsingInMemory((context, cfg) =>
                {
                    // As many at once as the copies (the transport's default is the processor count).
                    var atOnce = Math.Max(_copies, Environment.ProcessorCount);
                    cfg.PrefetchCount = atOnce;
                    cfg.ConcurrentMessageLimit = atOnce;
                    cfg.UseInbox(context);
                    cfg.ConfigureEndpoints(context);
                });
            });
        });
        ExactlyOnceReport report;
        await using (provider.ConfigureAwait(false))
        {
            var crash = (CommitCrash.On<TDbContext>(provider) ?? throw ScenarioServices.MissingInbox<TDbContext>());
            var messageId = NewId.NextGuid();
            using var spans = new ConsumeSpans(messageId.ToString());
            var bus = provider.GetRequiredService<IBusControl>();
            var effects = new BusEffects(provider.GetRequiredService<EffectRecorder>(), messageId, spans);
            using var published = bus.ConnectPublishObserver(effects);
            using var sent = bus.ConnectSendObserver(effects);
            try
            {
                await bus.StartAsync(cancellationToken).ConfigureAwait(false);
                var run = new ExactlyOnceRun<TDbContext>(
                    provider,
                    $"{_messageType.Name} \"{messageId}\" on MassTransit's in-memory transport",
                    messageId.ToString(),
                    new BusDeliveries(bus, _message, _messageType, messageId, crash, spans),
                    _copies,
                    provider.GetRequiredService<EffectRecorder>());
                report = await run.RunAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                // Bounded: a consumer stuck on a lock (what a stuck delivery reports) must not hold the test.
                using var stopping = new CancellationTokenSource(ExactlyOnceRun<TDbContext>.DeliveryTimeout);
                await bus.StopAsync(stopping.Token).ConfigureAwait(false);
            }
        }

        return report.Passed ? report : throw new ExactlyOnceException(report);
    }
}
