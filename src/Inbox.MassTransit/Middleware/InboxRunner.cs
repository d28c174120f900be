namespace Inbox.MassTransit.Middleware;

/// <summary>
/// Calls the <see cref="IInbox{TDbContext}"/> of a DbContext type that is known only at run time (from the
/// registrations), so that the filters need not be generic over the DbContext.
/// </summary>
internal abstract class InboxRunner
{
    public abstract Type DbContextType { get; }

    public static InboxRunner For(Type dbContextType)
        => (InboxRunner)Activator.CreateInstance(typeof(InboxRunner<>).MakeGenericType(dbContextType))!;

    /// <summary>Runs one message through the scope's inbox; the handler is the rest of the consume pipe, given the unit's DbContext.</summary>
    public abstract Task<InboxOutcome> ProcessAsync(
        IServiceProvider scope, string consumer, InboxMessage message, Func<Microsoft.EntityFrameworkCore.DbContext, CancellationToken, Task> handler, CancellationToken cancellationToken);

    /// <summary>Whether <c>x.AddInboxOutbox&lt;TDbContext&gt;()</c> routes this DbContext's consumers' publishes through its outbox.</summary>
    public abstract bool UsesOutbox(IServiceProvider scope);

    /// <summary>Runs a batch through the scope's inbox in one transaction; the handler sees the new messages only.</summary>
    public abstract Task<InboxBatchResult> ProcessBatchAsync<TMessage>(
        IServiceProvider scope,
        string consumer,
        IReadOnlyList<TMessage> messages,
        Func<TMessage, InboxMessage> describe,
        Func<Microsoft.EntityFrameworkCore.DbContext, IReadOnlyList<TMessage>, CancellationToken, Task> handler,
        CancellationToken cancellationToken);
}
