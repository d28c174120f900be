namespace Inbox.RabbitMQ;

/// <summary>
/// Handles messages of one type from a RabbitMQ queue, exactly once per message ID. Resolved from the same DI scope as
/// the inbox's DbContext: write through that DbContext and do not save or commit; the inbox commits your writes together
/// with the message's inbox record, and only then is the delivery acknowledged.
/// </summary>
/// <typeparam name="TMessage">The deserialized message type.</typeparam>
public interface IRabbitMqInboxHandler<in TMessage>
{
    /// <summary>
    /// Handles one new message. It may run more than once for the same message if its transaction fails and is
    /// retried (each time on a clean change tracker), so keep side effects outside the DbContext idempotent.
    /// </summary>
    /// <param name="message">The deserialized message.</param>
    /// <param name="context">Where the message came from: its ID, queue, exchange, routing key, properties and headers.</param>
    /// <param name="cancellationToken">Cancelled when the host stops and the shutdown timeout has passed; nothing is committed then.</param>
    /// <returns>A task that completes when the message's writes are tracked by the DbContext.</returns>
    Task HandleAsync(TMessage message, RabbitMqMessageContext context, CancellationToken cancellationToken);
}
