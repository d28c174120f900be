using System.Globalization;
using MassTransit;
using MassTransit.Context;
using MassTransit.Middleware.Outbox;

namespace Inbox.MassTransit.Outbox;

/// <summary>
/// Turns a MassTransit send or publish into an outbox row and back, keeping the envelope as MassTransit itself keeps it
/// in its outboxes (<see cref="InMemoryOutboxMessage"/>): the serialized body, message ID, conversation, correlation,
/// initiator and request IDs, addresses, headers and transport properties. The row's headers column carries the fields
/// that have no column of their own.
/// </summary>
internal static class MassTransitOutboxMessages
{
    public const string Transport = "masstransit";

    private const string MessageType = "mt-message-type";
    private const string ConversationId = "mt-conversation-id";
    private const string CorrelationId = "mt-correlation-id";
    private const string InitiatorId = "mt-initiator-id";
    private const string RequestId = "mt-request-id";
    private const string SourceAddress = "mt-source-address";
    private const string ResponseAddress = "mt-response-address";
    private const string FaultAddress = "mt-fault-address";
    private const string SentTime = "mt-sent-time";
    private const string ExpirationTime = "mt-expiration-time";
    private const string Headers = "mt-headers";
    private const string Properties = "mt-properties";

    /// <summary>What MassTransit's own outboxes store of a send (their AddSend), as an outbox message.</summary>
    /// <param name="context">The send, as MassTransit built it.</param>
    /// <param name="serializer">Serializes the headers and transport properties.</param>
    /// <param name="now">When it was written.</param>
    /// <param name="orderKey">
    /// What its order is kept within, per destination (the outbox's key): the conversation in a consumer, the scope
    /// outside consumers. Messages of other keys are sent alongside, not after, so one busy destination does not
    /// queue every unit of work behind one another.
    /// </param>
    public static OutboxMessage From<T>(SendContext<T> context, IObjectDeserializer serializer, DateTimeOffset now, string? orderKey = null)
        where T : class
    {
        var messageId = context.MessageId ?? throw new MessageException(typeof(T), "The SendContext MessageId must be present");
        var destination = context.DestinationAddress ?? throw new MessageException(typeof(T), "The SendContext DestinationAddress must be present");
        var fields = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [MessageType] = string.Join(";", context.SupportedMessageTypes),
            [SentTime] = (context.SentTime ?? now.UtcDateTime).ToString("O", CultureInfo.InvariantCulture),
        };
        Add(fields, ConversationId, context.ConversationId);
        Add(fields, CorrelationId, context.CorrelationId);
        Add(fields, InitiatorId, context.InitiatorId);
        Add(fields, RequestId, context.RequestId);
        Add(fields, SourceAddress, context.SourceAddress);
        Add(fields, ResponseAddress, context.ResponseAddress);
        Add(fields, FaultAddress, context.FaultAddress);
        if (context.TimeToLive is { } ttl)
        {
            fields[ExpirationTime] = (now.UtcDateTime + ttl).ToString("O", CultureInfo.InvariantCulture);
        }

        fields[Headers] = serializer.SerializeDictionary(context.Headers.GetAll()) ?? "{}";
        if (context is TransportSendContext<T> transport)
        {
            var properties = new Dictionary<string, object>(StringComparer.OrdinalIgnoreCase);
            transport.WritePropertiesTo(properties);
            fields[Properties] = serializer.SerializeDictionary(properties) ?? "{}";
        }

        var body = context.Serializer.GetMessageBody(context);
        return new OutboxMessage(Transport, destination.ToString(), body.GetBytes())
        {
            MessageId = messageId.ToString("D"),
            PartitionKey = orderKey ?? (context.ConversationId ?? messageId).ToString("D"),
            ContentType = context.ContentType?.ToString() ?? context.Serialization.DefaultContentType.ToString(),
            Headers = fields,
        };
    }

    /// <summary>A stored row as MassTransit's replay pipe (<c>OutboxMessageSendPipe</c>) reads it.</summary>
    public static InMemoryOutboxMessage ToReplay(OutboxEnvelope envelope)
    {
        var fields = envelope.Headers;
        var message = new InMemoryOutboxMessage
        {
            MessageId = System.Guid.Parse(envelope.MessageId),
            DestinationAddress = new Uri(envelope.Destination),
            ContentType = envelope.ContentType ?? "application/vnd.masstransit+json",
            Body = System.Text.Encoding.UTF8.GetString(envelope.Body.Span),
            MessageType = fields.GetValueOrDefault(MessageType) ?? "",
            ConversationId = Guid(fields, ConversationId),
            CorrelationId = Guid(fields, CorrelationId),
            InitiatorId = Guid(fields, InitiatorId),
            RequestId = Guid(fields, RequestId),
            SourceAddress = Address(fields, SourceAddress),
            ResponseAddress = Address(fields, ResponseAddress),
            FaultAddress = Address(fields, FaultAddress),
            SentTime = Time(fields, SentTime) ?? envelope.CreatedAt.UtcDateTime,
            ExpirationTime = Time(fields, ExpirationTime),
            Headers = fields.GetValueOrDefault(Headers),
            Properties = fields.GetValueOrDefault(Properties),
        };
        message.Deserialize(global::MassTransit.Serialization.SystemTextJsonMessageSerializer.Instance);
        return message;
    }

    private static void Add(Dictionary<string, string> fields, string name, object? value)
    {
        if (value is not null)
        {
            fields[name] = value is Guid guid ? guid.ToString("D") : value.ToString()!;
        }
    }

    private static Guid? Guid(IReadOnlyDictionary<string, string> fields, string name)
        => fields.TryGetValue(name, out var value) ? System.Guid.Parse(value) : null;

    private static Uri? Address(IReadOnlyDictionary<string, string> fields, string name)
        => fields.TryGetValue(name, out var value) ? new Uri(value) : null;

    private static DateTime? Time(IReadOnlyDictionary<string, string> fields, string name)
        => fields.TryGetValue(name, out var value) ? DateTime.Parse(value, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind) : null;
}
