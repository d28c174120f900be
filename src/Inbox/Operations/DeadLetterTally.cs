namespace Inbox.Operations;

/// <summary>
/// What a dead-letter replay selects (a reason, message IDs) and its counts as it goes: the Kafka and the RabbitMQ
/// replays read their dead letters their own way and share this.
/// </summary>
internal sealed class DeadLetterTally(string? reason, IReadOnlyCollection<string>? messageIds, bool dryRun)
{
    private readonly HashSet<string>? _messageIds = messageIds is null ? null : new HashSet<string>(messageIds, StringComparer.Ordinal);

    public long Read { get; private set; }

    public long Matched { get; private set; }

    public long Replayed { get; private set; }

    public long Unreplayable { get; private set; }

    public bool DryRun => dryRun;

    /// <summary>Counts a dead letter read, and says whether the filters select it (counted as matched).</summary>
    public bool Select(string? deadLetterReason, string? messageId)
    {
        Read++;
        if ((reason is not null && deadLetterReason != reason) || (_messageIds is not null && (messageId is null || !_messageIds.Contains(messageId))))
        {
            return false;
        }

        Matched++;
        return true;
    }

    /// <summary>Counts a selected dead letter that names no source to go back to.</summary>
    public void NoSource() => Unreplayable++;

    /// <summary>Counts dead letters the broker acknowledged at their source.</summary>
    public void Sent(int count = 1) => Replayed += count;

    public DeadLetterReplayResult Result(bool complete) => new(Read, Matched, Replayed, Unreplayable, dryRun, complete);
}
