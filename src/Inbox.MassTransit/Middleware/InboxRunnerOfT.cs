using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Inbox.MassTransit.Middleware;

/// <summary>
/// The inbox of <typeparamref name="TDbContext"/>, resolved from the message's scope: the consumer was resolved from
/// the same scope, so both use one DbContext and the consumer's writes join the inbox's transaction.
/// </summary>
internal sealed class InboxRunner<TDbContext> : InboxRunner
    where TDbContext : DbContext
{
    private bool? _usesOutbox;

    public override Type DbContextType => typeof(TDbContext);

    public override Task<InboxOutcome> ProcessAsync(
        IServiceProvider scope, string consumer, InboxMessage message, Func<DbContext, CancellationToken, Task> handler, CancellationToken cancellationToken)
        => scope.GetRequiredService<IInbox<TDbContext>>()
            .ProcessAsync(consumer, message, (db, ct) => handler(db, ct), cancellationToken);

    public override bool UsesOutbox(IServiceProvider scope)
        => _usesOutbox ??= scope.GetServices<Outbox.InboxOutboxMarker>().Any(static m => m.DbContextType == typeof(TDbContext));

    public override Task<InboxBatchResult> ProcessBatchAsync<TMessage>(
        IServiceProvider scope,
        string consumer,
        IReadOnlyList<TMessage> messages,
        Func<TMessage, InboxMessage> describe,
        Func<DbContext, IReadOnlyList<TMessage>, CancellationToken, Task> handler,
        CancellationToken cancellationToken)
        => scope.GetRequiredService<IInbox<TDbContext>>()
            .ProcessBatchAsync(consumer, messages, describe, (db, fresh, ct) => handler(db, fresh, ct), cancellationToken);
}
