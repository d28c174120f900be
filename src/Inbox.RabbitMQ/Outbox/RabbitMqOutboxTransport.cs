using System.Text;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Inbox.RabbitMQ.Outbox;

/// <summary>
/// Sends outbox rows to RabbitMQ on a channel with publisher confirms: each message is persistent, published with
/// <c>mandatory</c>, and reported sent only once the broker confirmed it, so the dispatcher deletes a row only then. The
/// row's stable ID is the AMQP <c>message_id</c> (which an Inbox consumer, RabbitMQ's or MassTransit's, reads), the
/// writer's trace context travels in <c>traceparent</c>. A dispatch's messages are all published, in order, before
/// their confirms are awaited: the order per exchange and routing key is the channel's, the confirms come together.
/// </summary>
internal sealed class RabbitMqOutboxTransport(ConnectionFactory factory) : IOutboxTransport, IAsyncDisposable
{
    public const string Name = "rabbitmq";

    /// <summary>The destination written for the default exchange (whose name is empty, which a destination may not be).</summary>
    public const string DefaultExchange = "amq.default";

    // An AMQP short string holds 255 bytes; a longer ID travels in this header alone, where the consumer reads it too.
    private const int MaxPropertyBytes = 255;
    private const string MessageIdHeader = "message-id";

    private IConnection? _connection;
    private IChannel? _channel;

    public async Task<IReadOnlyList<OutboxDelivery>> SendAsync(IReadOnlyList<OutboxEnvelope> messages, CancellationToken cancellationToken)
    {
        var deliveries = new OutboxDelivery[messages.Count];
        IChannel channel;
        try
        {
            channel = await ChannelAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            Array.Fill(deliveries, OutboxDelivery.Unavailable($"RabbitMQ could not be reached: {exception.Message}"));
            return deliveries;
        }

        // Every message is published before any confirm is awaited: the confirms of a dispatch arrive together instead of
        // one round trip (and one disk sync of the broker) each. RabbitMQ.Client sends the publishes of a channel in the
        // order they are made, so the order per exchange and routing key is kept.
        var confirms = new ValueTask[messages.Count];
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            try
            {
                var exchange = message.Destination == DefaultExchange ? "" : message.Destination;
                confirms[i] = channel.BasicPublishAsync(exchange, message.PartitionKey ?? "", mandatory: true, Properties(message), message.Body, cancellationToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                confirms[i] = ValueTask.FromException(exception);
            }
        }

        var lost = false;
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            try
            {
                await confirms[i].ConfigureAwait(false);
                deliveries[i] = OutboxDelivery.Sent;
            }
            catch (PublishException exception) when (exception.IsReturn)
            {
                // Nothing is bound to take it: the message's own fault (a queue or binding missing), counted as an attempt.
                deliveries[i] = OutboxDelivery.Refused($"RabbitMQ returned the message as unroutable: exchange '{message.Destination}', routing key '{message.PartitionKey}'.");
            }
            catch (PublishException exception)
            {
                deliveries[i] = OutboxDelivery.Refused($"RabbitMQ did not confirm the message (nack): {exception.Message}");
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // The channel or connection is gone (a broker restart, an exchange that does not exist closes the
                // channel): the message is tried again later; RabbitMQ.Client reconnects meanwhile.
                deliveries[i] = OutboxDelivery.Unavailable($"RabbitMQ: {exception.Message}");
                lost = true;
            }
        }

        if (lost)
        {
            await ResetChannelAsync().ConfigureAwait(false);
        }

        return deliveries;
    }

    public async ValueTask DisposeAsync()
    {
        await ResetChannelAsync().ConfigureAwait(false);
        if (_connection is { } connection)
        {
            _connection = null;
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static BasicProperties Properties(OutboxEnvelope message)
    {
        var headers = new Dictionary<string, object?>(message.Headers.Count + 2);
        foreach (var (name, value) in message.Headers)
        {
            headers[name] = value;
        }

        if (message.TraceParent is { } traceParent)
        {
            headers["traceparent"] = traceParent;
        }

        var properties = new BasicProperties
        {
            ContentType = message.ContentType,
            Persistent = true,
            Timestamp = new AmqpTimestamp(message.CreatedAt.ToUnixTimeSeconds()),
            Headers = headers,
        };
        if (Encoding.UTF8.GetByteCount(message.MessageId) <= MaxPropertyBytes)
        {
            properties.MessageId = message.MessageId;
        }
        else
        {
            headers[MessageIdHeader] = message.MessageId;
        }

        return properties;
    }

    private async Task<IChannel> ChannelAsync(CancellationToken cancellationToken)
    {
        if (_channel is { IsOpen: true } open)
        {
            return open;
        }

        // The dispatcher calls from one task at a time (IOutboxTransport), so no two connects race.
        await ResetChannelAsync().ConfigureAwait(false);
        if (_connection is null or { IsOpen: false })
        {
            if (_connection is { } stale)
            {
                _connection = null;
                await stale.DisposeAsync().ConfigureAwait(false);
            }

            factory.AutomaticRecoveryEnabled = true;
            factory.ClientProvidedName ??= "inbox:outbox";
            _connection = await factory.CreateConnectionAsync(cancellationToken).ConfigureAwait(false);
        }

        _channel = await _connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true),
            cancellationToken).ConfigureAwait(false);
        return _channel;
    }

    private async Task ResetChannelAsync()
    {
        if (_channel is { } channel)
        {
            _channel = null;
            try
            {
                await channel.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is AlreadyClosedException or OperationInterruptedException)
            {
                // Closed already.
            }
        }
    }
}
