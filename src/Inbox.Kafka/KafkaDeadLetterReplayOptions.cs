using Confluent.Kafka;
using Inbox.Operations;

namespace Inbox.Kafka;

/// <summary>
/// What <see cref="KafkaDeadLetters.ReplayAsync"/> reads and where it keeps its progress. Each dead letter selected is
/// produced back to the topic it came from (its <c>inbox-dlt-original-topic</c> header) with its key, value and
/// headers, so its message ID is the one the inbox recorded: replaying it twice, or after it was processed, has one effect.
/// </summary>
public sealed class KafkaDeadLetterReplayOptions
{
    /// <summary>Gets or sets the cluster: <c>bootstrap.servers</c> and any security settings, shared by the replay's consumer and producer.</summary>
    public ClientConfig Cluster { get; set; } = new();

    /// <summary>Gets or sets the dead-letter topic to read, e.g. <c>orders.dlt</c>.</summary>
    public string DeadLetterTopic { get; set; } = "";

    /// <summary>
    /// Gets or sets the consumer group that keeps the replay's progress: a replay starts where the last one with this
    /// group stopped, so an interrupted replay resumes and replays nothing twice.
    /// </summary>
    /// <value>Defaults to <c>inbox-replay</c>.</value>
    public string GroupId { get; set; } = "inbox-replay";

    /// <summary>Gets or sets a time to start from instead of the group's progress: the first dead letter written at or after it.</summary>
    public DateTimeOffset? From { get; set; }

    /// <summary>
    /// Gets or sets a reason to select (the <c>inbox-dlt-reason</c> header, e.g. <c>handler-failed</c>); <see langword="null"/>
    /// for any. A filtered replay keeps no progress in the group, so the dead letters it leaves are read again next time.
    /// </summary>
    public string? Reason { get; set; }

    /// <summary>Gets or sets the message IDs to select; <see langword="null"/> for any.</summary>
    public IReadOnlyCollection<string>? MessageIds { get; set; }

    /// <summary>Gets or sets how many dead letters to read at most in this run; <see langword="null"/> for all there are when it starts.</summary>
    public long? Limit { get; set; }

    /// <summary>Gets or sets whether only to count what would be replayed: nothing is produced and no progress is kept.</summary>
    public bool DryRun { get; set; }

    /// <summary>Gets or sets what is told the counts as the replay goes (after each acknowledged chunk).</summary>
    public IProgress<DeadLetterReplayResult>? Progress { get; set; }
}
