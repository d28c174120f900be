namespace Inbox.Operations;

/// <summary>The state of a DbContext's inbox, outbox and idempotency-key tables at one moment.</summary>
public sealed class InboxStatus
{
    internal InboxStatus(
        DateTimeOffset readAt,
        InboxRetention? retention,
        long? generation,
        IReadOnlyList<InboxConsumerStatus> inbox,
        IReadOnlyList<OutboxDestinationStatus> outbox,
        string? idempotencyKeyTable,
        long? idempotencyKeys)
    {
        ReadAt = readAt;
        Retention = retention;
        Generation = generation;
        Inbox = inbox;
        Outbox = outbox;
        IdempotencyKeyTable = idempotencyKeyTable;
        IdempotencyKeys = idempotencyKeys;
    }

    /// <summary>Gets when the state was read.</summary>
    public DateTimeOffset ReadAt { get; }

    /// <summary>Gets how the inbox's records expire, or <see langword="null"/> when the model has no inbox.</summary>
    public InboxRetention? Retention { get; }

    /// <summary>Gets the current generation under <see cref="InboxRetention.Generations"/>; otherwise <see langword="null"/>.</summary>
    public long? Generation { get; }

    /// <summary>Gets the inbox's records per consumer (none when the table is empty).</summary>
    public IReadOnlyList<InboxConsumerStatus> Inbox { get; }

    /// <summary>Gets the outbox's messages per transport and destination (none when the table is empty or not mapped).</summary>
    public IReadOnlyList<OutboxDestinationStatus> Outbox { get; }

    /// <summary>Gets the idempotency keys' table, or <see langword="null"/> when the application keeps none here.</summary>
    public string? IdempotencyKeyTable { get; }

    /// <summary>Gets how many idempotency keys are stored, or <see langword="null"/> when the application keeps none here.</summary>
    public long? IdempotencyKeys { get; }
}
