using Inbox.MassTransit.Configuration;
using Inbox.MassTransit.Outbox;
using MassTransit;

namespace Inbox.MassTransit.Middleware;

/// <summary>
/// Runs a consumer inside the inbox's unit of work. It sits in the consumer's own pipe, after the consumer factory
/// made the message's scope (so the consumer and the inbox share its DbContext) and therefore inside any message
/// retry (so every attempt is a new transaction). It returns only after the commit, and MassTransit acknowledges
/// the message only when it returns. A duplicate returns without calling the consumer: acknowledged, not consumed.
/// A store outage never leaves it: the core holds the message until the database answers (see <see cref="StoreOutage"/>).
/// </summary>
internal sealed class InboxFilter<TConsumer, TMessage>(InboxSelection selection, InboxConsumeOptions options) :
    IFilter<ConsumerConsumeContext<TConsumer, TMessage>>
    where TConsumer : class
    where TMessage : class
{
    private readonly ConsumerKeyCache<TConsumer> _consumerKey = new(options);

    public async Task Send(ConsumerConsumeContext<TConsumer, TMessage> context, IPipe<ConsumerConsumeContext<TConsumer, TMessage>> next)
    {
        var scope = InboxConsumeContext.Scope<TConsumer>(context);
        var consumer = _consumerKey.For(context);
        var message = InboxConsumeContext.Describe(context, options);
        var runner = selection.Resolve(scope);
        var outbox = runner.UsesOutbox(scope);

        // The core may run the consumer again after a store failure, each time on a clean change tracker. With the
        // outbox, what the consumer publishes or sends is written to that unit's DbContext, so it leaves after the commit.
        var outcome = await StoreOutage.HoldAsync(
            context,
            scope,
            consumer,
            message.MessageId,
            () => runner.ProcessAsync(
                scope,
                consumer,
                message,
                (db, _) => outbox ? OutboxContexts.SendAsync(next, context, db, scope) : next.Send(context),
                context.CancellationToken)).ConfigureAwait(false);

        InboxConsumeContext.Tag(outcome.ToString());
    }

    public void Probe(ProbeContext context)
    {
        var scope = context.CreateFilterScope("inbox");
        scope.Add("consumer", TypeCache<TConsumer>.ShortName);
        scope.Add("dbContext", selection.Description);
        scope.Add("fingerprints", options.ComputeFingerprints);
    }
}
