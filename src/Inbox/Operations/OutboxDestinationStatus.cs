namespace Inbox.Operations;

/// <summary>The outbox messages to one destination of one transport.</summary>
public sealed class OutboxDestinationStatus
{
    internal OutboxDestinationStatus(string table, string transport, string destination, long pending, DateTimeOffset? oldestPending, long failed, string? lastError)
    {
        Table = table;
        Transport = transport;
        Destination = destination;
        Pending = pending;
        OldestPending = oldestPending;
        Failed = failed;
        LastError = lastError;
    }

    /// <summary>Gets the outbox table's schema-qualified name.</summary>
    public string Table { get; }

    /// <summary>Gets the transport's name, as registered with <c>AddOutbox</c>.</summary>
    public string Transport { get; }

    /// <summary>Gets the destination: a topic, a queue, an exchange.</summary>
    public string Destination { get; }

    /// <summary>Gets how many messages wait to be sent.</summary>
    public long Pending { get; }

    /// <summary>Gets when the oldest pending message was written, or <see langword="null"/> when none is pending.</summary>
    public DateTimeOffset? OldestPending { get; }

    /// <summary>Gets how many messages are kept as failed (the broker refused them too often), no longer sent.</summary>
    public long Failed { get; }

    /// <summary>Gets the error of the most recent failed message, or <see langword="null"/> when none failed.</summary>
    public string? LastError { get; }
}
