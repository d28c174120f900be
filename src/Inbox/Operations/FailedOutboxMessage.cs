namespace Inbox.Operations;

/// <summary>An outbox message kept as failed: the broker refused it <c>MaxAttempts</c> times.</summary>
public sealed class FailedOutboxMessage
{
    internal FailedOutboxMessage(long id, string messageId, string transport, string destination, string? partitionKey, int attempts, string? lastError, DateTimeOffset createdAt, DateTimeOffset failedAt, int bodyLength)
    {
        Id = id;
        MessageId = messageId;
        Transport = transport;
        Destination = destination;
        PartitionKey = partitionKey;
        Attempts = attempts;
        LastError = lastError;
        CreatedAt = createdAt;
        FailedAt = failedAt;
        BodyLength = bodyLength;
    }

    /// <summary>Gets the row's ID, to select it (<see cref="OutboxSelection.Message"/>) or to page after it.</summary>
    public long Id { get; }

    /// <summary>Gets the message's ID, which a retry keeps.</summary>
    public string MessageId { get; }

    /// <summary>Gets the transport's name.</summary>
    public string Transport { get; }

    /// <summary>Gets the destination.</summary>
    public string Destination { get; }

    /// <summary>Gets the partition key (Kafka's record key), if any.</summary>
    public string? PartitionKey { get; }

    /// <summary>Gets how many times the broker refused it.</summary>
    public int Attempts { get; }

    /// <summary>Gets the last refusal's error.</summary>
    public string? LastError { get; }

    /// <summary>Gets when the handler wrote it.</summary>
    public DateTimeOffset CreatedAt { get; }

    /// <summary>Gets when it was kept as failed.</summary>
    public DateTimeOffset FailedAt { get; }

    /// <summary>Gets the body's size in bytes.</summary>
    public int BodyLength { get; }
}
