using Inbox.Testing.Delivering;
using Inbox.Testing.Escapes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Inbox.Testing;

/// <summary>
/// One message and its handler, delivered by <see cref="ShouldBeExactlyOnceAsync"/> in the sequences that break
/// handlers which are not exactly-once. Start one with <see cref="InboxScenario.For{TDbContext}"/>.
/// </summary>
/// <typeparam name="TDbContext">The application's DbContext.</typeparam>
public sealed class InboxScenario<TDbContext>
    where TDbContext : DbContext
{
    private readonly IServiceCollection _services;
    private string _consumer = "inbox-scenario";
    private int _copies = 8;
    private string? _messageId;
    private Func<IServiceProvider, TDbContext, CancellationToken, Task>? _handler;

    internal InboxScenario(IServiceCollection services) => _services = services;

    /// <summary>Sets the inbox consumer key the deliveries are recorded under.</summary>
    /// <param name="consumer">The consumer key, as the application's consumer uses.</param>
    /// <returns>This scenario.</returns>
    /// <value>The default is <c>inbox-scenario</c>.</value>
    public InboxScenario<TDbContext> WithConsumer(string consumer)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(consumer);
        _consumer = consumer;
        return this;
    }

    /// <summary>
    /// Sets how many copies of the message are delivered at the same time (at least 2). On SQLite, which has one
    /// writer, they run one after another, and the report says so.
    /// </summary>
    /// <param name="copies">The number of copies; the default is 8.</param>
    /// <returns>This scenario.</returns>
    public InboxScenario<TDbContext> WithConcurrentCopies(int copies)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(copies, 2);
        _copies = copies;
        return this;
    }

    /// <summary>Describes the delivery: a message ID and the work the application's consumer does for it.</summary>
    /// <param name="messageId">The message's ID, as the consumer reads it from the message.</param>
    /// <param name="handler">The handler's work, writing through the given DbContext (the unit of work's), as it would run in <c>IInbox.ProcessAsync</c>.</param>
    /// <returns>This scenario.</returns>
    public InboxScenario<TDbContext> Handle(string messageId, Func<TDbContext, CancellationToken, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return Handle(messageId, (_, db, cancellationToken) => handler(db, cancellationToken));
    }

    /// <summary>
    /// Describes the delivery through the application's handler class: resolved from the unit of work's scope (or
    /// created with its constructor's services when it is not registered), so it gets the unit's DbContext.
    /// </summary>
    /// <typeparam name="THandler">The application's handler class.</typeparam>
    /// <param name="messageId">The message's ID, as the consumer reads it from the message.</param>
    /// <param name="handle">Calls the handler with the message, e.g. <c>(h, ct) =&gt; h.HandleAsync(order, ct)</c>.</param>
    /// <returns>This scenario.</returns>
    public InboxScenario<TDbContext> Handle<THandler>(string messageId, Func<THandler, CancellationToken, Task> handle)
        where THandler : class
    {
        ArgumentNullException.ThrowIfNull(handle);
        return Handle(messageId, (scope, _, cancellationToken) => handle(ActivatorUtilities.GetServiceOrCreateInstance<THandler>(scope), cancellationToken));
    }

    /// <summary>
    /// Describes the delivery through the application's handler class, given the unit's DbContext too: for a Kafka or
    /// RabbitMQ handler, whose context carries the unit's outbox, e.g.
    /// <c>(h, db, ct) =&gt; h.HandleAsync(order, RabbitMqMessageContext.ForTest(db, "order-1"), ct)</c>.
    /// </summary>
    /// <typeparam name="THandler">The application's handler class.</typeparam>
    /// <param name="messageId">The message's ID, as the consumer reads it from the message.</param>
    /// <param name="handle">Calls the handler with the message and a context built on the unit's DbContext.</param>
    /// <returns>This scenario.</returns>
    public InboxScenario<TDbContext> Handle<THandler>(string messageId, Func<THandler, TDbContext, CancellationToken, Task> handle)
        where THandler : class
    {
        ArgumentNullException.ThrowIfNull(handle);
        return Handle(messageId, (scope, db, cancellationToken) => handle(ActivatorUtilities.GetServiceOrCreateInstance<THandler>(scope), db, cancellationToken));
    }

    /// <summary>
    /// Delivers the message in three sequences, compares every table of <typeparamref name="TDbContext"/> (but the
    /// inbox's own) row by row after each, and records the HTTP requests the handler sends:
    /// <list type="number">
    /// <item><description><b>Crash before the commit</b>: the handler runs and the inbox saves its writes, then the
    /// unit fails just before it commits; nothing may remain.</description></item>
    /// <item><description><b>Concurrent copies</b>: copies at the same time; one is Processed, the rest are
    /// Duplicates; the report lists what the one delivery changed.</description></item>
    /// <item><description><b>Redelivered</b>: the message once more; a Duplicate, and nothing changes (no second set
    /// of rows or outbox messages).</description></item>
    /// <item><description><b>Calls outside the database</b>: requests sent through <c>IHttpClientFactory</c> and
    /// records produced with a Kafka <c>IProducer</c> from the container during the deliveries; one that changes
    /// something (not GET, HEAD or OPTIONS) fails the check unless it carries the same key each time (its
    /// <c>Idempotency-Key</c>, or the record's message ID header).</description></item>
    /// </list>
    /// The database must have the application's schema and no rows of this message yet. A delivery that takes longer
    /// than 30 seconds is reported as stuck, and a store failure (the database busy or down) is retried for at most 10
    /// seconds, whatever the application's <c>StoreOutageLimit</c>.
    /// </summary>
    /// <param name="cancellationToken">Cancels the scenario.</param>
    /// <returns>The report of a scenario that passed, with the outbox messages the delivery wrote.</returns>
    /// <exception cref="ExactlyOnceException">A check failed; its message is the report.</exception>
    /// <exception cref="InvalidOperationException">No handler was given, or the services have no <c>AddInbox&lt;TDbContext&gt;()</c>.</exception>
    public async Task<ExactlyOnceReport> ShouldBeExactlyOnceAsync(CancellationToken cancellationToken = default)
    {
        if (_messageId is null || _handler is null)
        {
            throw new InvalidOperationException("Describe the delivery first: .Handle(messageId, handler).");
        }

        var provider = ScenarioServices.Build<TDbContext>(_services);
        await using (provider.ConfigureAwait(false))
        {
            var run = new ExactlyOnceRun<TDbContext>(
                provider,
                $"message \"{_messageId}\" (consumer \"{_consumer}\")",
                _messageId,
                new InboxDeliveries<TDbContext>(provider, _consumer, _messageId, _handler, (CommitCrash.On<TDbContext>(provider) ?? throw ScenarioServices.MissingInbox<TDbContext>())),
                _copies,
                provider.GetRequiredService<EffectRecorder>());
            var report = await run.RunAsync(cancellationToken).ConfigureAwait(false);
            return report.Passed ? report : throw new ExactlyOnceException(report);
        }
    }

    private InboxScenario<TDbContext> Handle(string messageId, Func<IServiceProvider, TDbContext, CancellationToken, Task> handler)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(messageId);
        _messageId = messageId;
        _handler = handler;
        return this;
    }
}
