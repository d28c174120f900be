using Microsoft.EntityFrameworkCore;

namespace Inbox;

/// <summary>
/// Processes messages exactly once against <typeparamref name="TDbContext"/>: the message ID is recorded in
/// the inbox table in the same transaction as the handler's writes, and a recorded ID is never processed again
/// (within the deduplication window). Register it with <c>services.AddInbox&lt;TDbContext&gt;()</c>; it is scoped
/// and shares the scope's DbContext.
/// </summary>
/// <typeparam name="TDbContext">The application's DbContext, whose model includes <c>modelBuilder.AddInbox()</c>.</typeparam>
public interface IInbox<TDbContext>
    where TDbContext : DbContext
{
    /// <summary>Processes one message unless this consumer has already processed its ID.</summary>
    /// <param name="consumer">Who processes it: a stable name such as an endpoint, consumer group or worker name.</param>
    /// <param name="messageId">The message ID.</param>
    /// <param name="handler">
    /// The business work. It writes through the given DbContext; the inbox saves and commits. It runs only for a
    /// new ID and may run more than once if the execution strategy retries a transient fault, each time on a
    /// clean change tracker.
    /// </param>
    /// <param name="cancellationToken">Cancels the work; nothing is committed then.</param>
    /// <returns><see cref="InboxOutcome.Processed"/> after the commit, or <see cref="InboxOutcome.Duplicate"/>.</returns>
    /// <exception cref="InvalidInboxInputException">The consumer name or message ID cannot be recorded.</exception>
    Task<InboxOutcome> ProcessAsync(
        string consumer,
        string messageId,
        Func<TDbContext, CancellationToken, Task> handler,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Processes one message described with its fingerprint and send time unless this consumer has already
    /// processed its ID.
    /// </summary>
    /// <param name="consumer">Who processes it: a stable name such as an endpoint, consumer group or worker name.</param>
    /// <param name="message">The message's ID, optional fingerprint and optional send time.</param>
    /// <param name="handler">The business work; see <see cref="ProcessAsync(string, string, Func{TDbContext, CancellationToken, Task}, CancellationToken)"/>.</param>
    /// <param name="cancellationToken">Cancels the work; nothing is committed then.</param>
    /// <returns><see cref="InboxOutcome.Processed"/>, <see cref="InboxOutcome.Duplicate"/> or <see cref="InboxOutcome.Conflict"/>.</returns>
    /// <exception cref="InvalidInboxInputException">The consumer name or message ID cannot be recorded.</exception>
    /// <exception cref="LateMessageException">The message is late and the policy is <see cref="LateMessagePolicy.Reject"/>.</exception>
    Task<InboxOutcome> ProcessAsync(
        string consumer,
        InboxMessage message,
        Func<TDbContext, CancellationToken, Task> handler,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Processes many messages in one transaction: one statement records every ID, the handler sees only the new
    /// messages (duplicates within the batch removed too), one commit. If the handler throws, the batch is rolled
    /// back and retried message by message, so that one poison message cannot block the rest; its failure is
    /// reported in the result, not thrown.
    /// </summary>
    /// <typeparam name="TMessage">The message type.</typeparam>
    /// <param name="consumer">Who processes them.</param>
    /// <param name="messages">The messages, in delivery order.</param>
    /// <param name="describe">Gives a message's ID, fingerprint and send time.</param>
    /// <param name="handler">The business work for the new messages, in delivery order.</param>
    /// <param name="cancellationToken">Cancels the work; nothing more is committed then.</param>
    /// <returns>One result per input message, in input order.</returns>
    /// <exception cref="InvalidInboxInputException">The consumer name cannot be recorded.</exception>
    Task<InboxBatchResult> ProcessBatchAsync<TMessage>(
        string consumer,
        IReadOnlyList<TMessage> messages,
        Func<TMessage, InboxMessage> describe,
        Func<TDbContext, IReadOnlyList<TMessage>, CancellationToken, Task> handler,
        CancellationToken cancellationToken = default);
}
