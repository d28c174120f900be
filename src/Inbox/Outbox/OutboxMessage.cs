namespace Inbox;

/// <summary>
/// A message to send through the outbox: written with the application's other changes and sent by the dispatcher once
/// they have committed. Transport packages give typed shortcuts (the Kafka package's <c>Produce</c>).
/// </summary>
public sealed class OutboxMessage
{
    /// <summary>Describes a message.</summary>
    /// <param name="transport">The transport that sends it, as registered with <c>AddOutbox</c>, e.g. <c>kafka</c>.</param>
    /// <param name="destination">Where to: a Kafka topic, a queue.</param>
    /// <param name="body">The serialized message.</param>
    public OutboxMessage(string transport, string destination, ReadOnlyMemory<byte> body)
    {
        Transport = transport;
        Destination = destination;
        Body = body;
    }

    /// <summary>Gets the transport that sends it.</summary>
    public string Transport { get; }

    /// <summary>Gets where it goes.</summary>
    public string Destination { get; }

    /// <summary>Gets the serialized message.</summary>
    public ReadOnlyMemory<byte> Body { get; }

    /// <summary>
    /// Gets the partition or ordering key (a Kafka record key). Messages with the same destination and key are sent in
    /// the order their transactions committed.
    /// </summary>
    public string? PartitionKey { get; init; }

    /// <summary>
    /// Gets whether messages with the same destination and key leave in the order their transactions committed even
    /// when those transactions overlap. Then (on PostgreSQL) each such transaction holds the key's lock from its insert to
    /// its commit, so concurrent writers of one key commit one at a time. <see langword="false"/> keeps the order within
    /// a transaction and between transactions that do not overlap, and lets concurrent writers of a key commit together.
    /// Applies only to messages with a <see cref="PartitionKey"/>.
    /// </summary>
    /// <value><see langword="true"/>.</value>
    public bool CommitOrder { get; init; } = true;

    /// <summary>Gets the headers to send with it.</summary>
    public IReadOnlyDictionary<string, string>? Headers { get; init; }

    /// <summary>Gets the content type, for transports that carry one.</summary>
    public string? ContentType { get; init; }

    /// <summary>Gets the message ID to send it under, or <see langword="null"/> for a new, time-ordered one (a UUID v7).</summary>
    public string? MessageId { get; init; }
}
