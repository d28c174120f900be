using Inbox.Operations;
using Inbox.RabbitMQ.Consuming;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Inbox.RabbitMQ.DeadLettering;

/// <summary>
/// One run of a dead-letter replay. It reads as many messages as the queue held when it started, one by one
/// (<c>basic.get</c>): a selected one is published to its source with confirms, then acknowledged; one not selected is
/// kept unacknowledged until the run ends, when closing the channel puts it back where it was, so the run never reads a
/// message twice and leaves the others in their order.
/// </summary>
internal sealed class DeadLetterReplay(RabbitMqDeadLetterReplayOptions options)
{
    private const string MassTransitInputAddress = "MT-Fault-InputAddress";
    private readonly DeadLetterTally _tally = new(options.Reason, options.MessageIds, options.DryRun);

    public async Task<DeadLetterReplayResult> RunAsync(CancellationToken cancellationToken)
    {
        var connection = await options.Connection.CreateConnectionAsync("inbox dead-letter replay", cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var channel = await connection.CreateChannelAsync(
                new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true),
                cancellationToken).ConfigureAwait(false);
            await using (channel.ConfigureAwait(false))
            {
                uint count;
                try
                {
                    count = (await channel.QueueDeclarePassiveAsync(options.DeadLetterQueue, cancellationToken).ConfigureAwait(false)).MessageCount;
                }
                catch (OperationInterruptedException exception)
                {
                    throw new InvalidOperationException($"The dead-letter queue {options.DeadLetterQueue} does not exist: {exception.ShutdownReason?.ReplyText}", exception);
                }

                var toRead = options.Limit is { } limit ? Math.Min(limit, count) : count;
                while (_tally.Read < toRead)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var message = await channel.BasicGetAsync(options.DeadLetterQueue, autoAck: false, cancellationToken).ConfigureAwait(false);
                    if (message is null)
                    {
                        break;
                    }

                    await ReplayAsync(channel, message, cancellationToken).ConfigureAwait(false);
                    if (_tally.Read % 100 == 0)
                    {
                        options.Progress?.Report(Result(complete: false));
                    }
                }

                // Closing the channel returns the messages not selected (never acknowledged) to the queue. Not cancellable:
                // the run is over, and its result is what the caller needs.
                await channel.CloseAsync(CancellationToken.None).ConfigureAwait(false);
                return Result(complete: _tally.Read >= count);
            }
        }
    }

    private DeadLetterReplayResult Result(bool complete) => _tally.Result(complete);

    private async Task ReplayAsync(IChannel channel, BasicGetResult message, CancellationToken cancellationToken)
    {
        var properties = message.BasicProperties;
        var headers = properties.Headers ?? new Dictionary<string, object?>();
        var messageId = Text(headers, InboxRabbitMqDeadLetterHeaders.MessageId) ?? properties.MessageId ??
            MessageIdHeaders.Defaults.Select(h => Text(headers, h)).FirstOrDefault(v => v is not null);
        if (!_tally.Select(Text(headers, InboxRabbitMqDeadLetterHeaders.Reason), messageId))
        {
            return;
        }

        var target = options.TargetQueue ?? Text(headers, InboxRabbitMqDeadLetterHeaders.OriginalQueue) ?? QueueOf(Text(headers, MassTransitInputAddress));
        if (string.IsNullOrEmpty(target))
        {
            _tally.NoSource();
            return;
        }

        if (options.DryRun)
        {
            return;
        }

        // The original headers without what the dead-lettering added (ours, or MassTransit's fault headers); the message
        // ID as a header when the message carried it nowhere the consumer reads (its body, or a selector).
        var replayed = headers
            .Where(h => !h.Key.StartsWith("inbox-dlt-", StringComparison.Ordinal) && !h.Key.StartsWith("MT-Fault-", StringComparison.Ordinal) && h.Key != "MT-Reason")
            .ToDictionary(h => h.Key, h => h.Value);
        if (messageId is not null && properties.MessageId is null && !MessageIdHeaders.Defaults.Any(replayed.ContainsKey))
        {
            replayed[MessageIdHeaders.Replayed] = messageId;
        }

        var outgoing = new BasicProperties(properties) { Headers = replayed, Persistent = true };

        // Confirmed (and routed: mandatory) before the dead letter is acknowledged: a crash in between sends it twice,
        // which the inbox recognises by its message ID, and never loses it. A target queue that does not exist returns
        // the message: the dead letter stays, counted as having no source, and the replay goes on with the others.
        try
        {
            await channel.BasicPublishAsync("", target, mandatory: true, outgoing, message.Body, cancellationToken).ConfigureAwait(false);
        }
        catch (PublishReturnException)
        {
            _tally.NoSource();
            return;
        }

        // Not cancellable once the copy is confirmed: a cancel here would leave the dead letter to be sent again.
        await channel.BasicAckAsync(message.DeliveryTag, multiple: false, CancellationToken.None).ConfigureAwait(false);
        _tally.Sent();
    }

    private static string? Text(IDictionary<string, object?> headers, string key) => headers.TryGetValue(key, out var value) ? HeaderText.Of(value) : null;

    // MassTransit's input address, e.g. rabbitmq://host/vhost/orders?bind=true: the queue is the last path segment.
    private static string? QueueOf(string? address)
        => Uri.TryCreate(address, UriKind.Absolute, out var uri) ? uri.Segments.LastOrDefault()?.Trim('/') : null;
}
