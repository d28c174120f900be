using System.Runtime.ExceptionServices;
using Inbox.MassTransit.Configuration;
using Inbox.MassTransit.Outbox;
using MassTransit;
using MassTransit.Batching;
using MassTransit.Context;

namespace Inbox.MassTransit.Middleware;

/// <summary>
/// Runs a batch consumer inside one inbox transaction: one statement records every message ID, and the consumer
/// sees a batch of the new messages only (duplicates within the batch and already processed ones removed). When
/// nothing is new the consumer is not called. A message that fails on its own (after the core retried the batch
/// one by one) faults the batch, so MassTransit retries or dead-letters it; the others are committed already and
/// come back as duplicates.
/// </summary>
internal sealed class InboxBatchFilter<TConsumer, TMessage>(InboxSelection selection, InboxConsumeOptions options) :
    IFilter<ConsumerConsumeContext<TConsumer, Batch<TMessage>>>
    where TConsumer : class
    where TMessage : class
{
    private readonly ConsumerKeyCache<TConsumer> _consumerKey = new(options);

    public async Task Send(ConsumerConsumeContext<TConsumer, Batch<TMessage>> context, IPipe<ConsumerConsumeContext<TConsumer, Batch<TMessage>>> next)
    {
        var scope = InboxConsumeContext.Scope<TConsumer>(context);
        var batch = context.Message;
        var messages = batch.ToList();
        var consumer = _consumerKey.For(messages.Count > 0 ? messages[0] : context);
        var runner = selection.Resolve(scope);
        var outbox = runner.UsesOutbox(scope);

        var result = await StoreOutage.HoldAsync(
            context,
            scope,
            consumer,
            $"{messages.Count} messages of a batch",
            () => runner.ProcessBatchAsync<ConsumeContext<TMessage>>(
                scope,
                consumer,
                messages,
                m => InboxConsumeContext.Describe(m, options),
                (db, fresh, _) =>
                {
                    var narrowed = fresh.Count == messages.Count ? context : Narrow(context, batch, fresh);
                    return outbox ? OutboxContexts.SendAsync(next, narrowed, db, scope) : next.Send(narrowed);
                },
                context.CancellationToken)).ConfigureAwait(false);

        InboxConsumeContext.Tag($"processed={result.Processed} duplicate={result.Duplicates} conflict={result.Conflicts} failed={result.Failed}");
        var failures = result.Items.Select(item => item.Error).OfType<Exception>().ToList();
        if (failures.Count == 1)
        {
            ExceptionDispatchInfo.Throw(failures[0]);
        }

        if (failures.Count > 1)
        {
            throw new AggregateException(
                $"{failures.Count} of the batch's {messages.Count} messages failed; the other messages were committed.", failures);
        }
    }

    public void Probe(ProbeContext context)
    {
        var scope = context.CreateFilterScope("inbox-batch");
        scope.Add("consumer", TypeCache<TConsumer>.ShortName);
        scope.Add("dbContext", selection.Description);
        scope.Add("fingerprints", options.ComputeFingerprints);
    }

    private static ConsumerConsumeContext<TConsumer, Batch<TMessage>> Narrow(
        ConsumerConsumeContext<TConsumer, Batch<TMessage>> context, Batch<TMessage> batch, IReadOnlyList<ConsumeContext<TMessage>> fresh)
    {
        var narrowed = new MessageBatch<TMessage>(batch.FirstMessageReceived, batch.LastMessageReceived, batch.Mode, fresh);
        return new ConsumerConsumeContextProxy<TConsumer, Batch<TMessage>>(
            new MessageConsumeContext<Batch<TMessage>>(context, narrowed), context.Consumer);
    }
}
