using System.Diagnostics;
using System.Threading.Channels;

namespace Inbox.Testing.MassTransit.Delivering;

/// <summary>
/// The end of each consume of the scenario's message, read from MassTransit's consumer activities: the inbox filter
/// tags its outcome (<c>inbox.outcome</c>), and a fault sets the error status. An activity with an outcome is a
/// delivery finished; one that faulted may be an attempt a retry policy runs again, so a faulted delivery is finished
/// only when MassTransit publishes its <c>Fault&lt;T&gt;</c>, after the last retry (<see cref="FaultPublished"/>).
/// </summary>
internal sealed class ConsumeSpans : IDisposable
{
    private const string MessageIdTag = "messaging.masstransit.message_id";
    private const string ConsumerTypeTag = "messaging.masstransit.consumer_type";
    private const string OutcomeTag = "inbox.outcome";
    private readonly Channel<ConsumeSpan> _ended = Channel.CreateUnbounded<ConsumeSpan>();
    private readonly ActivityListener _listener;

    public ConsumeSpans(string messageId)
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "MassTransit",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.GetTagItem(ConsumerTypeTag) is not null && activity.GetTagItem(MessageIdTag) as string == messageId)
                {
                    _ended.Writer.TryWrite(new ConsumeSpan(activity.GetTagItem(OutcomeTag) as string, Fault: null));
                }
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>Waits for the next consume of the message to end.</summary>
    public ValueTask<ConsumeSpan> NextAsync(CancellationToken cancellationToken) => _ended.Reader.ReadAsync(cancellationToken);

    /// <summary>Records that MassTransit gave up on the message: its fault was published, after any retries.</summary>
    public void FaultPublished(string description) => _ended.Writer.TryWrite(new ConsumeSpan(null, description));

    public void Dispose() => _listener.Dispose();
}

/// <summary>How one consume ended: the inbox's outcome, or the fault.</summary>
/// <param name="Outcome">The <c>inbox.outcome</c> tag, if the inbox filter set one.</param>
/// <param name="Fault">The exceptions of the message's fault, published after its last attempt.</param>
internal sealed record ConsumeSpan(string? Outcome, string? Fault)
{
    /// <summary>Gets whether the delivery is over: MassTransit published its fault.</summary>
    public bool Final => Fault is not null;
}
