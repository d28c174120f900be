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
    public override Type DbContextType => typeof(TDbContext);

    public override Task<InboxOutcome> ProcessAsync(
        IServiceProvider scope, string consumer, InboxMessage message, Func<CancellationToken, Task> handler, CancellationToken cancellationToken)
        => scope.GetRequiredService<IInbox<TDbContext>>()
            .ProcessAsync(consumer, message, (_, ct) => handler(ct), cancellationToken);

    public override Task<InboxBatchResult> ProcessBatchAsync<TMessage>(
        IServiceProvider scope,
        string consumer,
        IReadOnlyList<TMessage> messages,
        Func<TMessage, InboxMessage> describe,
        Func<IReadOnlyList<TMessage>, CancellationToken, Task> handler,
        CancellationToken cancellationToken)
        => scope.GetRequiredService<IInbox<TDbContext>>()
            .ProcessBatchAsync(consumer, messages, describe, (_, fresh, ct) => handler(fresh, ct), cancellationToken);
}
