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

    /// <summary>Gets or sets the longest message ID or consumer name accepted, in characters.</summary>
    /// <value>256. Between 1 and 4,000.</value>
    public int MaxIdLength { get; set; } = 256;
}
