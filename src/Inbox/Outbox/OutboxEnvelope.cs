namespace Inbox;

/// <summary>A committed outgoing message, as the dispatcher hands it to a transport.</summary>
public sealed class OutboxEnvelope
{
    internal OutboxEnvelope(
        string messageId,
        string destination,
        string? partitionKey,
        ReadOnlyMemory<byte> body,
        IReadOnlyDictionary<string, string> headers,
        string? contentType,
        string? traceParent,
        DateTimeOffset createdAt,
        int attempts)
    {
        MessageId = messageId;
        Destination = destination;
        PartitionKey = partitionKey;
        Body = body;
        Headers = headers;
        ContentType = contentType;
        TraceParent = traceParent;
        CreatedAt = createdAt;
        Attempts = attempts;
    }

    /// <summary>Gets the message ID, fixed when the message was written: the same on every send.</summary>
    public string MessageId { get; }

    /// <summary>Gets where it goes.</summary>
    public string Destination { get; }

    /// <summary>Gets the partition or ordering key, if any.</summary>
    public string? PartitionKey { get; }

    /// <summary>Gets the serialized message.</summary>
    public ReadOnlyMemory<byte> Body { get; }

    /// <summary>Gets the headers it was written with.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; }

    /// <summary>Gets its content type, if one was given.</summary>
    public string? ContentType { get; }

    /// <summary>Gets the W3C <c>traceparent</c> of the activity that wrote it, if there was one.</summary>
    public string? TraceParent { get; }

    /// <summary>Gets when it was written (saved).</summary>
    public DateTimeOffset CreatedAt { get; }

    /// <summary>Gets how many sends of it the broker refused so far.</summary>
    public int Attempts { get; }
}
