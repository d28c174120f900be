using Inbox.RabbitMQ.Consuming;
using RabbitMQ.Client;

namespace Inbox.RabbitMQ.DeadLettering;

/// <summary>
/// Publishes a delivery to the dead-letter queue with its body, its properties and its headers, plus the reason
/// headers, and returns only once the broker confirmed it (publisher confirms, <c>mandatory</c>): the caller acknowledges
/// the original after that, so a crash in between costs a second dead letter, never a message lost.
/// </summary>
internal sealed class DeadLetterPublisher(IChannel channel, string queue, string consumer, string originalQueue) : IAsyncDisposable, IDisposable
{
    public string Queue => queue;

    public async Task PublishAsync<TMessage>(RabbitMqDelivery<TMessage> delivery, CancellationToken cancellationToken)
    {
        var original = delivery.Args.BasicProperties;
        var headers = original.Headers is { } kept ? new Dictionary<string, object?>(kept) : [];
        headers[InboxRabbitMqDeadLetterHeaders.Reason] = delivery.DeadLetterReason;
        headers[InboxRabbitMqDeadLetterHeaders.ExceptionType] = delivery.Error?.GetType().FullName;
        headers[InboxRabbitMqDeadLetterHeaders.ExceptionMessage] = delivery.Error?.Message;
        headers[InboxRabbitMqDeadLetterHeaders.OriginalQueue] = originalQueue;
        headers[InboxRabbitMqDeadLetterHeaders.Consumer] = consumer;
        if (delivery.MessageId is { } id)
        {
            headers[InboxRabbitMqDeadLetterHeaders.MessageId] = id;
        }

        // Without the original's expiration, as RabbitMQ's own dead-lettering drops it: a dead letter must wait for
        // someone to look at it, not expire in the dead-letter queue.
        var properties = new BasicProperties(original)
        {
            Headers = headers,
            Persistent = true,
            Expiration = null,
        };

        // With confirmation tracking on, the call completes when the broker confirms, and throws when it nacks or
        // returns the message (mandatory: the dead-letter queue is gone).
        await channel.BasicPublishAsync("", queue, mandatory: true, properties, delivery.Body, cancellationToken).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => channel.DisposeAsync();

    public void Dispose() => channel.Dispose();
}
