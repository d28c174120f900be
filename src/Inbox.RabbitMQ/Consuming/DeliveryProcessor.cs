using System.Runtime.CompilerServices;
using Inbox.RabbitMQ.DeadLettering;
using Inbox.RabbitMQ.Health;
using Inbox.RabbitMQ.Telemetry;
using Inbox.Resilience;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Polly;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace Inbox.RabbitMQ.Consuming;

/// <summary>
/// Takes one delivery to its end, in this order: read (deserialize, find the ID); the inbox's unit of work with the
/// handler, retried with back-off when the handler fails; the dead-letter queue, broker-confirmed, for what cannot be
/// processed; and only then the acknowledgement. What the failure is decides (<see cref="InboxFailures.Classify"/>):
/// <list type="bullet">
/// <item>bad input (no or an invalid ID, an unreadable body, a conflict, a late message rejected): dead-lettered at once;</item>
/// <item>the handler's own: <c>HandlerRetries</c> more tries, then dead-lettered;</item>
/// <item>the store's: the inbox holds the delivery through the outage for up to <c>InboxOptions.StoreOutageLimit</c>; past
/// that the host stops and the delivery is left unacknowledged, to be delivered again. Never dead-lettered.</item>
/// </list>
/// </summary>
internal sealed class DeliveryProcessor<TDbContext, TMessage, THandler>(
    IServiceScopeFactory scopes,
    InboxRabbitMqConsumerOptions<TMessage> options,
    string consumer,
    DeadLetterPublisher deadLetters,
    IHostApplicationLifetime? lifetime,
    RabbitMqConsumerState state,
    InboxRabbitMqTelemetry telemetry,
    TimeProvider time,
    ILogger logger)
    where TDbContext : DbContext
    where THandler : class, IRabbitMqInboxHandler<TMessage>
{
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(30);
    private static readonly ResiliencePropertyKey<string> MessageId = new("inbox.rabbitmq.message-id");
    private readonly DeliveryReader<TMessage> _reader = new(options, consumer);

    private readonly ResiliencePipeline _handlerRetry = options.HandlerRetries == 0 ? ResiliencePipeline.Empty : Backoff.Build(
        time,
        options.RetryDelay,
        MaxDelay,
        static (exception, context) => !context.CancellationToken.IsCancellationRequested && InboxFailures.Classify(exception) == InboxFailureKind.Handler,
        args => Log.HandlerFailed(logger, consumer, args.Context.Properties.GetValue(MessageId, ""), args.AttemptNumber + 1, options.HandlerRetries + 1, args.Outcome.Exception!),
        options.HandlerRetries);

    // The broker not taking a dead letter is not the message's fault: the delivery stays unacknowledged and the publish
    // is tried again until the broker confirms it or the host stops.
    private readonly ResiliencePipeline _deadLetterRetry = Backoff.Build(
        time,
        options.RetryDelay,
        MaxDelay,
        static (exception, context) => !context.CancellationToken.IsCancellationRequested && exception is not OperationCanceledException,
        args => Log.DeadLetterFailed(logger, consumer, deadLetters.Queue, args.AttemptNumber + 1, args.RetryDelay, args.Outcome.Exception!));

    public async Task ProcessAsync(IChannel channel, BasicDeliverEventArgs args, CancellationToken cancellationToken)
    {
        telemetry.RecordDelivery(consumer, options.Queue);
        var delivery = _reader.Read(args);
        using var activity = InboxRabbitMqTelemetry.StartProcess(consumer, options.Queue, delivery.MessageId, args.BasicProperties);
        if (delivery.DeadLetterReason is null && !await SettleAsync(delivery, firstError: null, cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        await DeadLetterIfMarkedAsync(delivery, cancellationToken).ConfigureAwait(false);
        await AckAsync(channel, delivery.Args.DeliveryTag, multiple: false, delivery.MessageId).ConfigureAwait(false);
    }

    /// <summary>Acknowledges every delivery on the channel up to <paramref name="deliveryTag"/> (a multiple-ack).</summary>
    public Task AckUpToAsync(IChannel channel, ulong deliveryTag) => AckAsync(channel, deliveryTag, multiple: true, messageId: null);

    /// <summary>
    /// Processes deliveries read with <see cref="Read"/>, in delivery order, in one unit of work (<c>ProcessBatchAsync</c>),
    /// and dead-letters what cannot be processed; the caller acknowledges (<see cref="AckUpToAsync"/>). Returns false
    /// when the database stayed down past the limit: the host is stopping and the batch must stay unacknowledged.
    /// </summary>
    public async Task<bool> ProcessBatchAsync(IReadOnlyList<RabbitMqDelivery<TMessage>> deliveries, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        using var activity = InboxRabbitMqTelemetry.StartBatch(consumer, options.Queue, deliveries);
        var ready = deliveries.Where(static d => d.DeadLetterReason is null).ToList();
        if (ready.Count > 0)
        {
            InboxBatchResult result;
            try
            {
                result = await RunBatchAsync(ready, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested && InboxFailures.Classify(exception) == InboxFailureKind.Store)
            {
                StopForStoreOutage(ready[0], exception);
                return false;
            }

            for (var i = 0; i < ready.Count; i++)
            {
                // A handler's failure comes from the message's run on its own (the inbox retries a failed batch message by
                // message): it is the first of the message's tries, and HandlerRetries more follow.
                switch (result.Items[i].Error)
                {
                    case null:
                        break;
                    case var error when error is InboxConflictException or LateMessageException or InvalidInboxInputException:
                        ready[i].DeadLetter(Reason(error), error);
                        break;
                    case var error when InboxFailures.Classify(error) == InboxFailureKind.Store:
                        StopForStoreOutage(ready[i], error);
                        return false;
                    case var error when !await SettleAsync(ready[i], error, cancellationToken).ConfigureAwait(false):
                        return false;
                }
            }
        }

        foreach (var delivery in deliveries)
        {
            await DeadLetterIfMarkedAsync(delivery, cancellationToken).ConfigureAwait(false);
        }

        telemetry.RecordBatch(consumer, options.Queue, deliveries.Count, time.GetElapsedTime(started));
        return true;
    }

    /// <summary>Reads a delivery kept past RabbitMQ.Client's callback (its body copied), for <see cref="ProcessBatchAsync"/>.</summary>
    public RabbitMqDelivery<TMessage> Read(BasicDeliverEventArgs args)
    {
        telemetry.RecordDelivery(consumer, options.Queue);
        return _reader.Read(args, copyBody: true);
    }

    /// <summary>
    /// Runs the delivery's unit of work with its handler retries, marking it for the dead-letter queue when it cannot be
    /// processed. Returns false when the database stayed down past the limit: the host is stopping and the delivery must
    /// stay unacknowledged.
    /// </summary>
    private async Task<bool> SettleAsync(RabbitMqDelivery<TMessage> delivery, Exception? firstError, CancellationToken cancellationToken)
    {
        try
        {
            await RunWithRetriesAsync(delivery, firstError, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested && InboxFailures.Classify(exception) == InboxFailureKind.Store)
        {
            StopForStoreOutage(delivery, exception);
            return false;
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            delivery.DeadLetter(Reason(exception), exception);
        }

        return true;
    }

    private void StopForStoreOutage(RabbitMqDelivery<TMessage> delivery, Exception exception)
    {
        Log.StoppingForStoreOutage(logger, consumer, delivery.MessageId!, exception);
        state.Failed($"the database stayed down longer than InboxOptions.StoreOutageLimit: {exception.Message}");
        lifetime?.StopApplication();
    }

    private async Task DeadLetterIfMarkedAsync(RabbitMqDelivery<TMessage> delivery, CancellationToken cancellationToken)
    {
        if (delivery.DeadLetterReason is { } reason)
        {
            Log.DeadLettering(logger, consumer, delivery.MessageId, options.Queue, deadLetters.Queue, reason, delivery.Error);
            await _deadLetterRetry.ExecuteAsync(
                static (s, ct) => new ValueTask(s.Publisher.PublishAsync(s.Delivery, ct)),
                (Publisher: deadLetters, Delivery: delivery),
                cancellationToken).ConfigureAwait(false);
            telemetry.RecordDeadLettered(consumer, options.Queue, reason);
        }
    }

    private static string Reason(Exception exception) => exception switch
    {
        InboxConflictException => InboxRabbitMqDeadLetterHeaders.ReasonConflict,
        LateMessageException => InboxRabbitMqDeadLetterHeaders.ReasonLateMessage,
        InvalidInboxInputException => InboxRabbitMqDeadLetterHeaders.ReasonInvalidMessageId,
        _ => InboxRabbitMqDeadLetterHeaders.ReasonHandlerFailed,
    };

    /// <summary>The unit of work, retried when the handler fails; a first error given is the first try's, already made.</summary>
    private async Task RunWithRetriesAsync(RabbitMqDelivery<TMessage> delivery, Exception? firstError, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(MessageId, delivery.MessageId!);
        try
        {
            var first = new StrongBox<Exception?>(firstError);
            await _handlerRetry.ExecuteAsync(
                static (c, s) =>
                {
                    if (s.First.Value is { } error)
                    {
                        s.First.Value = null;
                        return ValueTask.FromException(error);
                    }

                    return new ValueTask(s.Self.RunAsync(s.Delivery, c.CancellationToken));
                },
                context,
                (Self: this, Delivery: delivery, First: first)).ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>One unit of work: the handler from a scope of its own, with the transaction's outbox in the message's context.</summary>
    private async Task RunAsync(RabbitMqDelivery<TMessage> delivery, CancellationToken cancellationToken)
    {
        var scope = scopes.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            var services = scope.ServiceProvider;
            await services.GetRequiredService<IInbox<TDbContext>>().ProcessAsync(
                consumer,
                delivery.Description,
                (db, ct) => HandleAsync(services.GetRequiredService<THandler>(), db, delivery, ct),
                cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>One unit of work for a batch: the handler called for each new message, in delivery order, in one transaction.</summary>
    private async Task<InboxBatchResult> RunBatchAsync(List<RabbitMqDelivery<TMessage>> ready, CancellationToken cancellationToken)
    {
        var scope = scopes.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            var services = scope.ServiceProvider;
            return await services.GetRequiredService<IInbox<TDbContext>>().ProcessBatchAsync(
                consumer,
                ready,
                static d => d.Description,
                async (db, fresh, ct) =>
                {
                    var handler = services.GetRequiredService<THandler>();
                    foreach (var delivery in fresh)
                    {
                        await HandleAsync(handler, db, delivery, ct).ConfigureAwait(false);
                    }
                },
                cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Calls the handler with the transaction's outbox in the message's context, for this call only.</summary>
    private static async Task HandleAsync(THandler handler, TDbContext db, RabbitMqDelivery<TMessage> delivery, CancellationToken cancellationToken)
    {
        var context = delivery.Context!;
        context.OutboxWriter = db.Outbox();
        try
        {
            await handler.HandleAsync(delivery.Message, context, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            context.OutboxWriter = null;
        }
    }

    private async Task AckAsync(IChannel channel, ulong deliveryTag, bool multiple, string? messageId)
    {
        try
        {
            await channel.BasicAckAsync(deliveryTag, multiple, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is AlreadyClosedException or OperationInterruptedException)
        {
            // The channel closed after the commit: the broker delivers the message again and the inbox knows it.
            Log.AckFailed(logger, consumer, messageId ?? $"the deliveries up to tag {deliveryTag}", exception.Message);
        }
    }
}
