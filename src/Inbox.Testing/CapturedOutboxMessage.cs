namespace Inbox.Testing;

/// <summary>A message the handler wrote to the outbox in the delivery that committed, as it will be sent.</summary>
public sealed class CapturedOutboxMessage
{
    internal CapturedOutboxMessage(string transport, string destination, string? partitionKey, string messageId, ReadOnlyMemory<byte> body, string? contentType)
    {
        Transport = transport;
        Destination = destination;
        PartitionKey = partitionKey;
        MessageId = messageId;
        Body = body;
        ContentType = contentType;
    }

    /// <summary>Gets the transport that sends it, e.g. <c>kafka</c> or <c>rabbitmq</c>.</summary>
    public string Transport { get; }

    /// <summary>Gets where it goes: a topic, a queue or an exchange.</summary>
    public string Destination { get; }

    /// <summary>Gets its partition or routing key, if any.</summary>
    public string? PartitionKey { get; }

    /// <summary>Gets the message ID it is sent under, the same on every send.</summary>
    public string MessageId { get; }

    /// <summary>Gets the serialized message.</summary>
    public ReadOnlyMemory<byte> Body { get; }

    /// <summary>Gets its content type, if any.</summary>
    public string? ContentType { get; }
}
