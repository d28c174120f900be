namespace Inbox;

/// <summary>Options for one inbox (one DbContext type). Validated at start-up.</summary>
public sealed class InboxOptions
{
    /// <summary>
    /// Gets or sets how long a message ID is remembered. A redelivery or replay that comes later than this is
    /// processed again, so make it longer than the longest redelivery, retry or replay delay you can have
    /// (broker redelivery after a consumer outage, a Kafka consumer group reset, a producer's retries).
    /// Longer windows cost table size only.
    /// </summary>
    /// <value>24 hours. Must be positive.</value>
    public TimeSpan DeduplicationWindow { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Gets or sets how often the purger deletes expired records.</summary>
    /// <value>1 minute. Must be positive.</value>
    public TimeSpan PurgeInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Gets or sets how many records one purge statement deletes at most.</summary>
    /// <value>10,000. Between 1 and 1,000,000.</value>
    public int PurgeBatchSize { get; set; } = 10_000;

    /// <summary>Gets or sets whether <c>AddInbox</c> runs the purger in this process.</summary>
    /// <value><see langword="true"/>. Turn it off where another process purges the same table.</value>
    public bool PurgeEnabled { get; set; } = true;

    /// <summary>Gets or sets what to do with a message sent longer ago than <see cref="DeduplicationWindow"/>.</summary>
    /// <value><see cref="LateMessagePolicy.ProcessAndWarn"/>.</value>
    public LateMessagePolicy LateMessagePolicy { get; set; } = LateMessagePolicy.ProcessAndWarn;

    /// <summary>
    /// Gets or sets what to do with a message whose ID was processed with other content (its fingerprint differs):
    /// the ID was reused for another message.
    /// </summary>
    /// <value><see cref="ConflictPolicy.Reject"/>: the adapters send it to the error queue or dead-letter topic.</value>
    public ConflictPolicy ConflictPolicy { get; set; } = ConflictPolicy.Reject;

    /// <summary>Gets or sets the longest message ID or consumer name accepted, in characters.</summary>
    /// <value>256. Between 1 and 4,000.</value>
    public int MaxIdLength { get; set; } = 256;

    /// <summary>
    /// Gets or sets how long a message is held, and its unit of work tried again, while the database fails
    /// (<see cref="InboxFailureKind.Store"/>: a refused or broken connection, a server restarting, a timeout). An outage
    /// is never the message's fault, so it is not handed to the adapter's retry policy or error queue while the
    /// database may come back. After this long the failure is thrown; the adapters then stop consuming instead of
    /// dead-lettering. <see cref="TimeSpan.Zero"/> turns holding off: a store failure is thrown at once.
    /// </summary>
    /// <value>1 hour. Zero or positive.</value>
    public TimeSpan StoreOutageLimit { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Gets or sets the first delay before a unit of work is tried again after a store failure; it doubles, with jitter, up to <see cref="StoreRetryMaxDelay"/>.</summary>
    /// <value>100 milliseconds. Positive, at most <see cref="StoreRetryMaxDelay"/>.</value>
    public TimeSpan StoreRetryDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Gets or sets the longest delay between two tries during a store outage.</summary>
    /// <value>5 seconds. Positive.</value>
    public TimeSpan StoreRetryMaxDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets or sets whether a single message's unit of work is optimistic, for handlers whose only effects are their
    /// database writes (PostgreSQL; SQLite always inserts first). A primary-key lookup skips a known duplicate; otherwise
    /// the handler runs and its writes and the inbox record go to the database in one batch, which PostgreSQL runs as one
    /// implicit transaction: one round trip for the writes instead of three (and none for the lookup, as
    /// <see cref="OneRoundTripLookup"/> allows). The trade-off: a duplicate delivered while the first is still running,
    /// or one that is not looked up, is not stopped before its handler runs. Its batch then fails on the inbox record's
    /// primary key and rolls back whole, so its database effects still happen once, but anything else the handler does
    /// (an HTTP call, a publish without the outbox) happens twice. The handler must not call <c>SaveChanges</c> or open
    /// a transaction itself. A unit that updates or deletes, or has more than 500 changes, gets an explicit transaction.
    /// Batches (<c>ProcessBatchAsync</c>) are unaffected.
    /// </summary>
    /// <value><see langword="false"/>: the record is inserted first, and a concurrent duplicate waits for it.</value>
    public bool OneRoundTrip { get; set; }

    /// <summary>
    /// Gets or sets when <see cref="OneRoundTrip"/> looks a message's ID up before running its handler. Skipping the lookup
    /// saves a round trip per message; a duplicate that is not looked up runs its handler, and the inbox record's primary
    /// key rolls its writes back (the same trade-off as a concurrent duplicate's). If the handler or its writes fail, the ID
    /// is looked up then: a message the inbox knows is a Duplicate, not a failure, whatever its handler threw.
    /// </summary>
    /// <value><see cref="InboxLookup.Always"/>.</value>
    public InboxLookup OneRoundTripLookup { get; set; }
}
