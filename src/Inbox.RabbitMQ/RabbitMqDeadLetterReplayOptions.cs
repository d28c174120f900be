using Inbox.Operations;
using RabbitMQ.Client;

namespace Inbox.RabbitMQ;

/// <summary>
/// What <see cref="RabbitMqDeadLetters.ReplayAsync"/> reads: a dead-letter queue of the Inbox consumer
/// (<c>&lt;queue&gt;.dead-letter</c>) or MassTransit's error queue (<c>&lt;queue&gt;_error</c>). Each dead letter selected
/// goes back to the queue it came from with its body, properties and message ID, so the inbox recognises it: replaying
/// it twice, or after it was processed, has one effect.
/// </summary>
public sealed class RabbitMqDeadLetterReplayOptions
{
    /// <summary>Gets or sets the broker: <c>Uri</c>, or <c>HostName</c>, <c>UserName</c>, ....</summary>
    public ConnectionFactory Connection { get; set; } = new();

    /// <summary>Gets or sets the queue to read the dead letters from.</summary>
    public string DeadLetterQueue { get; set; } = "";

    /// <summary>
    /// Gets or sets the queue to send them to; <see langword="null"/> for the one each came from: its
    /// <c>inbox-dlt-original-queue</c> header, or MassTransit's <c>MT-Fault-InputAddress</c>.
    /// </summary>
    public string? TargetQueue { get; set; }

    /// <summary>Gets or sets a reason to select (<c>inbox-dlt-reason</c>, e.g. <c>handler-failed</c>); <see langword="null"/> for any.</summary>
    public string? Reason { get; set; }

    /// <summary>Gets or sets the message IDs to select; <see langword="null"/> for any.</summary>
    public IReadOnlyCollection<string>? MessageIds { get; set; }

    /// <summary>Gets or sets how many dead letters to read at most; <see langword="null"/> for all there are when it starts.</summary>
    public long? Limit { get; set; }

    /// <summary>Gets or sets whether only to count: every dead letter stays where it is.</summary>
    public bool DryRun { get; set; }

    /// <summary>Gets or sets what is told the counts as the replay goes.</summary>
    public IProgress<DeadLetterReplayResult>? Progress { get; set; }
}
