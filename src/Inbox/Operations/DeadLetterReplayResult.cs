namespace Inbox.Operations;

/// <summary>What a dead-letter replay did (or, in a dry run, would do): the transports' replays all answer with it.</summary>
public sealed class DeadLetterReplayResult
{
    /// <summary>Initializes a new instance of the <see cref="DeadLetterReplayResult"/> class.</summary>
    /// <param name="read">Dead letters read.</param>
    /// <param name="matched">Of those, the ones the filters selected.</param>
    /// <param name="replayed">Of those, the ones sent back to their source (0 in a dry run).</param>
    /// <param name="unreplayable">Selected ones with no source to send them back to, left where they are.</param>
    /// <param name="dryRun">Whether it was a dry run.</param>
    /// <param name="complete">Whether it reached the end of the dead letters (not stopped by a limit).</param>
    public DeadLetterReplayResult(long read, long matched, long replayed, long unreplayable, bool dryRun, bool complete)
    {
        Read = read;
        Matched = matched;
        Replayed = replayed;
        Unreplayable = unreplayable;
        DryRun = dryRun;
        Complete = complete;
    }

    /// <summary>Gets how many dead letters were read.</summary>
    public long Read { get; }

    /// <summary>Gets how many the filters selected (a reason, message IDs).</summary>
    public long Matched { get; }

    /// <summary>Gets how many were sent back to their source, with the broker's acknowledgement (0 in a dry run).</summary>
    public long Replayed { get; }

    /// <summary>
    /// Gets how many selected ones had no source to go back to and were left where they are: no original topic or queue
    /// header, or (RabbitMQ) a queue that no longer exists, which returned the message.
    /// </summary>
    public long Unreplayable { get; }

    /// <summary>Gets whether this was a dry run, which only counts.</summary>
    public bool DryRun { get; }

    /// <summary>Gets whether the replay reached the last dead letter there was when it started.</summary>
    public bool Complete { get; }

    /// <summary>Describes the result in one line, for logs and the command line.</summary>
    /// <returns>e.g. <c>read 100, matched 100, replayed 100, complete</c>.</returns>
    public override string ToString()
        => $"read {Read}, matched {Matched}, {(DryRun ? "would replay" : "replayed")} {(DryRun ? Matched - Unreplayable : Replayed)}" +
           (Unreplayable > 0 ? $", {Unreplayable} with no source" : "") + (Complete ? ", complete" : ", stopped before the end");
}
