using System.Text;
using System.Text.Json;
using RabbitMQ.Client.Events;

namespace Inbox.RabbitMQ.Consuming;

/// <summary>
/// Turns a delivery into a message and its ID. The ID is the AMQP <c>message_id</c> property, else the first of the
/// configured headers that is set, else a MassTransit envelope's <c>messageId</c>, else the selector's. A MassTransit
/// envelope (<c>application/vnd.masstransit+json</c>) is unwrapped: its <c>message</c> is what is deserialized, its
/// <c>sentTime</c> the time sent, so that a MassTransit producer can feed this consumer during a migration. A delivery
/// that fails either step is marked for the dead-letter queue.
/// </summary>
internal sealed class DeliveryReader<TMessage>(InboxRabbitMqConsumerOptions<TMessage> options, string consumer)
{
    /// <summary>The content type MassTransit gives its JSON envelopes.</summary>
    public const string MassTransitEnvelope = "application/vnd.masstransit+json";

    private readonly string[] _idHeaders = [.. options.MessageIdHeaders];

    /// <param name="args">The delivery.</param>
    /// <param name="copyBody">Whether to copy the body, for a delivery kept after RabbitMQ.Client's callback returns.</param>
    public RabbitMqDelivery<TMessage> Read(BasicDeliverEventArgs args, bool copyBody = false)
    {
        var delivery = new RabbitMqDelivery<TMessage>(args, copyBody ? args.Body.ToArray() : args.Body);
        var properties = args.BasicProperties;
        string? envelopeId = null;
        DateTimeOffset? sent = properties.IsTimestampPresent() && properties.Timestamp.UnixTime > 0
            ? DateTimeOffset.FromUnixTimeSeconds(properties.Timestamp.UnixTime)
            : null;
        try
        {
            var body = delivery.Body;
            if (string.Equals(properties.ContentType, MassTransitEnvelope, StringComparison.OrdinalIgnoreCase))
            {
                (body, envelopeId, sent) = Unwrap(body, sent);
            }

            delivery.Message = options.Deserializer is { } deserialize
                ? deserialize(body)
                : JsonSerializer.Deserialize<TMessage>(body.Span, options.JsonSerializerOptions)!;
            if (delivery.Message is null)
            {
                throw new JsonException("The body is JSON null.");
            }
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            delivery.MessageId = Present(properties.MessageId) ?? FromHeaders(properties.Headers);
            delivery.DeadLetter(InboxRabbitMqDeadLetterHeaders.ReasonDeserializationFailed, exception);
            return delivery;
        }

        try
        {
            delivery.MessageId = Present(properties.MessageId) ?? FromHeaders(properties.Headers) ?? Present(envelopeId) ??
                (options.MessageIdSelector is { } selector ? Present(selector(delivery.Message)) : null);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            delivery.DeadLetter(InboxRabbitMqDeadLetterHeaders.ReasonMissingMessageId, exception);
            return delivery;
        }

        if (delivery.MessageId is not { } id)
        {
            delivery.DeadLetter(
                InboxRabbitMqDeadLetterHeaders.ReasonMissingMessageId,
                new InvalidInboxInputException(
                    $"The message from queue {options.Queue} has no message ID: no message_id property, none of the headers " +
                    $"[{string.Join(", ", _idHeaders)}]" + (options.MessageIdSelector is null ? "" : ", nothing from the MessageIdSelector") + "."));
            return delivery;
        }

        var fingerprint = options.ComputeFingerprints ? InboxMessage.ComputeFingerprint(delivery.Body.Span) : null;
        delivery.Description = new InboxMessage(id, fingerprint, sent) { Redelivered = args.Redelivered };
        delivery.Context = new RabbitMqMessageContext(consumer, id, options.Queue, args.Exchange, args.RoutingKey, args.Redelivered, properties);
        return delivery;
    }

    private static string? Present(string? value) => string.IsNullOrEmpty(value) ? null : value;

    /// <summary>The envelope's message as bytes, its message ID and its sent time (else the property's).</summary>
    private static (ReadOnlyMemory<byte> Body, string? Id, DateTimeOffset? Sent) Unwrap(ReadOnlyMemory<byte> body, DateTimeOffset? sent)
    {
        using var envelope = JsonDocument.Parse(body);
        var root = envelope.RootElement;
        if (!root.TryGetProperty("message", out var message))
        {
            throw new JsonException($"The body is labelled {MassTransitEnvelope} but has no \"message\".");
        }

        var id = root.TryGetProperty("messageId", out var messageId) && messageId.ValueKind == JsonValueKind.String ? messageId.GetString() : null;
        if (root.TryGetProperty("sentTime", out var sentTime) && sentTime.ValueKind == JsonValueKind.String && sentTime.TryGetDateTimeOffset(out var at))
        {
            sent = at;
        }

        return (Encoding.UTF8.GetBytes(message.GetRawText()), id, sent);
    }

    private string? FromHeaders(IDictionary<string, object?>? headers)
    {
        if (headers is null || headers.Count == 0)
        {
            return null;
        }

        foreach (var name in _idHeaders)
        {
            if (headers.TryGetValue(name, out var exact) && Present(HeaderText.Of(exact)) is { } found)
            {
                return found;
            }

            foreach (var (key, value) in headers)
            {
                if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase) && Present(HeaderText.Of(value)) is { } loose)
                {
                    return loose;
                }
            }
        }

        return null;
    }
}
