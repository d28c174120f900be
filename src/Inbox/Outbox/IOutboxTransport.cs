namespace Inbox;

/// <summary>
/// Sends the outbox's messages to a broker. Registered by a transport package (<c>o.UseKafka(...)</c>) or by the
/// application with <see cref="OutboxOptions.AddTransport"/>; called by the dispatcher from one task at a time.
/// </summary>
public interface IOutboxTransport
{
    /// <summary>
    /// Sends the messages and reports each one's fate once the broker has answered for it. Messages with the same
    /// destination and key come in the order they were committed and must keep it.
    /// </summary>
    /// <param name="messages">What to send, in dispatch order.</param>
    /// <param name="cancellationToken">Cancelled when the host stops.</param>
    /// <returns>One delivery per message, in the same order.</returns>
    Task<IReadOnlyList<OutboxDelivery>> SendAsync(IReadOnlyList<OutboxEnvelope> messages, CancellationToken cancellationToken);
}
