using Inbox.Testing.Delivering;
using MassTransit;

namespace Inbox.Testing.MassTransit.Delivering;

/// <summary>Deliveries as MassTransit makes them: the message published on the in-memory bus under one message ID.</summary>
internal sealed class BusDeliveries(IBus bus, object message, Type messageType, Guid messageId, CommitCrash crash, ConsumeSpans spans) : IScenarioDeliveries
{
    public async Task<ScenarioDelivery> DeliverAsync(bool crashBeforeCommit, bool redelivered, CancellationToken cancellationToken)
    {
        // The in-memory transport has no redelivered flag: every copy arrives as a first delivery.
        if (crashBeforeCommit)
        {
            crash.Arm();
        }

        await bus.Publish(message, messageType, context => context.MessageId = messageId, cancellationToken).ConfigureAwait(false);

        // A faulted attempt is not the end while a retry policy may run it again: the fault published after the last
        // attempt is. The crash stays armed until then, so every attempt of the crashed delivery fails.
        ConsumeSpan ended;
        do
        {
            ended = await spans.NextAsync(cancellationToken).ConfigureAwait(false);
        }
        while (ended.Outcome is null && !ended.Final);

        var crashed = crashBeforeCommit && crash.Disarm();
        if (ended.Final)
        {
            return crashed ? ScenarioDelivery.Crashed : new ScenarioDelivery(null, new InvalidOperationException($"The consumer faulted: {ended.Fault}"));
        }

        return Enum.TryParse<InboxOutcome>(ended.Outcome, out var outcome)
            ? new ScenarioDelivery(outcome, null)
            : new ScenarioDelivery(null, new InvalidOperationException(
                $"The consume ended without an inbox outcome ({ended.Outcome ?? "none"}): is cfg.UseInbox(context) on the consumer's endpoint?"));
    }
}
