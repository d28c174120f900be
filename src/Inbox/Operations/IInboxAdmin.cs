using Microsoft.EntityFrameworkCore;

namespace Inbox.Operations;

/// <summary>
/// What an operator does to the inbox, outbox and idempotency-key tables of <typeparamref name="TDbContext"/> without
/// writing SQL: read their state, send again or delete outbox messages kept as failed, and forget a message or a key so
/// that its next delivery runs again. Registered (scoped) by <c>AddInbox</c>, <c>AddOutbox</c> and
/// <c>AddIdempotencyKeys</c>; the <c>dotnet inbox</c> tool runs the same code. Every change is one statement (one
/// transaction), logged with its reason and counted in <c>inbox.admin.changes</c>.
/// </summary>
/// <typeparam name="TDbContext">The application's DbContext whose tables these are.</typeparam>
public interface IInboxAdmin<TDbContext>
    where TDbContext : DbContext
{
    /// <summary>
    /// Reads the state of every table the model maps: per inbox consumer, its records and the oldest; per outbox
    /// destination, the pending messages, the oldest one's age, the failed ones and the last error; the idempotency keys.
    /// </summary>
    /// <param name="cancellationToken">Cancels the reads.</param>
    /// <returns>The state, as of now.</returns>
    Task<InboxStatus> GetStatusAsync(CancellationToken cancellationToken = default);

    /// <summary>Lists outbox messages kept as failed, oldest first, a page at a time.</summary>
    /// <param name="destination">Only those to this destination (a topic, a queue); <see langword="null"/> for all.</param>
    /// <param name="afterId">The last <see cref="FailedOutboxMessage.Id"/> of the previous page; 0 for the first page.</param>
    /// <param name="limit">The most to return, 1 to 10,000.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The failed messages after <paramref name="afterId"/>, by ID.</returns>
    Task<IReadOnlyList<FailedOutboxMessage>> GetFailedOutboxMessagesAsync(string? destination = null, long afterId = 0, int limit = 100, CancellationToken cancellationToken = default);

    /// <summary>
    /// Makes outbox messages kept as failed pending again, with their attempts reset, so the dispatcher sends them
    /// (within its poll interval); fix what made the broker refuse them first. Their message IDs do not change, so a
    /// consumer with an inbox applies each once.
    /// </summary>
    /// <param name="selection">Which failed messages: one, those to a destination, or all.</param>
    /// <param name="reason">Why, for the log.</param>
    /// <param name="cancellationToken">Cancels the update.</param>
    /// <returns>How many messages were made pending.</returns>
    Task<int> RetryFailedOutboxMessagesAsync(OutboxSelection selection, string reason, CancellationToken cancellationToken = default);

    /// <summary>Deletes outbox messages kept as failed: they will never be sent.</summary>
    /// <param name="selection">Which failed messages: one, or those to a destination (not all at once).</param>
    /// <param name="reason">Why, for the log.</param>
    /// <param name="cancellationToken">Cancels the delete.</param>
    /// <returns>How many messages were deleted.</returns>
    /// <exception cref="ArgumentException"><paramref name="selection"/> is <see cref="OutboxSelection.All"/>.</exception>
    Task<int> DeleteFailedOutboxMessagesAsync(OutboxSelection selection, string reason, CancellationToken cancellationToken = default);

    /// <summary>
    /// Removes the inbox record of one message for one consumer, so that the next delivery of that ID runs the handler
    /// again: to process a message again on purpose, e.g. after a bug corrupted its effect. The ID is matched exactly
    /// (<c>*</c> and <c>%</c> are not wildcards).
    /// </summary>
    /// <param name="consumer">The consumer's name, as the inbox records it.</param>
    /// <param name="messageId">The message ID, exactly.</param>
    /// <param name="reason">Why, for the log.</param>
    /// <param name="cancellationToken">Cancels the delete.</param>
    /// <returns>Whether a record was removed (<see langword="false"/>: the inbox had no such record).</returns>
    Task<bool> ForgetAsync(string consumer, string messageId, string reason, CancellationToken cancellationToken = default);

    /// <summary>
    /// Removes one idempotency key of one scope, with its stored response, so that the next request with that key runs
    /// the endpoint again.
    /// </summary>
    /// <param name="scope">The key's scope, as stored (by default the method and route, e.g. <c>POST /payments</c>).</param>
    /// <param name="key">The key, exactly.</param>
    /// <param name="reason">Why, for the log.</param>
    /// <param name="cancellationToken">Cancels the delete.</param>
    /// <returns>Whether a key was removed.</returns>
    /// <exception cref="InvalidOperationException">The application keeps no idempotency keys in <typeparamref name="TDbContext"/>.</exception>
    Task<bool> ForgetIdempotencyKeyAsync(string scope, string key, string reason, CancellationToken cancellationToken = default);
}
