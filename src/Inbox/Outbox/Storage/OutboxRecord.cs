namespace Inbox.Outbox.Storage;

/// <summary>
/// One row of the outbox table: a message written in the application's transaction, waiting to be sent. Deleted once
/// the broker acknowledged it; kept, with <see cref="FailedAt"/> set, when it could not be sent after the allowed attempts.
/// </summary>
internal sealed class OutboxRecord
{
    /// <summary>Assigned by the database at insert: the dispatch order.</summary>
    public long Id { get; set; }

    /// <summary>The message's ID, fixed when it was written, so that every (re-)dispatch carries the same one.</summary>
    public string MessageId { get; set; } = "";

    /// <summary>Which transport sends it, e.g. <c>kafka</c>.</summary>
    public string Transport { get; set; } = "";

    /// <summary>Where to: a Kafka topic, a queue or exchange address.</summary>
    public string Destination { get; set; } = "";

    /// <summary>The partition or ordering key; messages with the same destination and key are sent in commit order.</summary>
    public string? PartitionKey { get; set; }

    /// <summary>A stable hash of the destination and key: which dispatch lane the row belongs to.</summary>
    public int KeyHash { get; set; }

    public byte[] Body { get; set; } = [];

    /// <summary>The message headers as a JSON object of strings, or <see langword="null"/>.</summary>
    public string? Headers { get; set; }

    public string? ContentType { get; set; }

    /// <summary>The W3C trace context of the activity that wrote it, to link the dispatch to it.</summary>
    public string? TraceParent { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>How many times a send was refused for this message itself (not for a broker outage).</summary>
    public int Attempts { get; set; }

    public string? LastError { get; set; }

    /// <summary>When it was given up after <c>OutboxOptions.MaxAttempts</c>; the dispatcher skips it from then on.</summary>
    public DateTimeOffset? FailedAt { get; set; }

    /// <summary>Whether the row's key is locked for its transaction, keeping commit order per key (not stored).</summary>
    internal bool LocksKey { get; init; } = true;

    /// <summary>
    /// The order the row was written in (not stored): on PostgreSQL rows are inserted in this order, which the change
    /// tracker's own order does not keep once rows of a failed save were handed back to it.
    /// </summary>
    public long Sequence { get; } = Interlocked.Increment(ref _written);

    private static long _written;
}
