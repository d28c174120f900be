using Inbox.MassTransit.Configuration;
using MassTransit;

namespace Inbox.MassTransit.Middleware;

/// <summary>
/// Runs a consumer inside the inbox's unit of work. It sits in the consumer's own pipe, after the consumer factory
/// made the message's scope (so the consumer and the inbox share its DbContext) and therefore inside any message
/// retry (so every attempt is a new transaction). It returns only after the commit, and MassTransit acknowledges
/// the message only when it returns. A duplicate returns without calling the consumer: acknowledged, not consumed.
/// </summary>
internal sealed class InboxFilter<TConsumer, TMessage>(InboxSelection selection, InboxConsumeOptions options) :
    IFilter<ConsumerConsumeContext<TConsumer, TMessage>>
    where TConsumer : class
    where TMessage : class
{
    public async Task Send(ConsumerConsumeContext<TConsumer, TMessage> context, IPipe<ConsumerConsumeContext<TConsumer, TMessage>> next)
    {
        var scope = InboxConsumeContext.Scope<TConsumer>(context);
        var consumer = InboxConsumeContext.ConsumerKey<TConsumer>(context, options);
        var message = InboxConsumeContext.Describe(context, options);

        // The strategy may run the consumer again after a transient database fault, on a clean change tracker.
        var outcome = await selection.Resolve(scope)
            .ProcessAsync(scope, consumer, message, _ => next.Send(context), context.CancellationToken)
            .ConfigureAwait(false);

        InboxConsumeContext.Tag(outcome.ToString());
        if (outcome == InboxOutcome.Conflict)
        {
            throw InboxConsumeContext.Conflict(consumer, message.MessageId);
        }
    }

    public void Probe(ProbeContext context)
    {
        var scope = context.CreateFilterScope("inbox");
        scope.Add("consumer", TypeCache<TConsumer>.ShortName);
        scope.Add("dbContext", selection.Description);
        scope.Add("fingerprints", options.ComputeFingerprints);
    }
}
