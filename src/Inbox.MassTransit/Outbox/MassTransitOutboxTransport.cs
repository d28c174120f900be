using System.Runtime.Serialization;
using MassTransit;
using MassTransit.Middleware;
using MassTransit.Serialization;
using Microsoft.Extensions.Logging;

namespace Inbox.MassTransit.Outbox;

/// <summary>
/// Sends the outbox's MassTransit rows through the bus's own send endpoints, as MassTransit's outbox delivery does:
/// <c>OutboxMessageSendPipe</c> restores the stored envelope (same MessageId, conversation, initiator, headers,
/// transport properties), and the send completes once the broker confirmed it (RabbitMQ publisher confirms). The rows
/// of one destination and key (a conversation, or a scope outside consumers) go one after another, in order; the
/// others alongside, so that a send waits for its own key's confirms only.
/// </summary>
internal sealed class MassTransitOutboxTransport(IBus bus, ILogger logger) : IOutboxTransport
{
    // Sends awaiting the broker's confirm at once: enough to keep a RabbitMQ connection busy, few enough not to flood it.
    private const int SendsInFlight = 64;

    public async Task<IReadOnlyList<OutboxDelivery>> SendAsync(IReadOnlyList<OutboxEnvelope> messages, CancellationToken cancellationToken)
    {
        var deliveries = new OutboxDelivery[messages.Count];
        var sequences = Enumerable.Range(0, messages.Count).GroupBy(i => (messages[i].Destination, messages[i].PartitionKey));
        var options = new ParallelOptions { MaxDegreeOfParallelism = SendsInFlight, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(sequences, options, async (sequence, token) =>
        {
            var unavailable = false;
            foreach (var i in sequence)
            {
                // After an outage answer, the rest of the sequence waits for the next dispatch: order is kept.
                deliveries[i] = unavailable
                    ? OutboxDelivery.Unavailable("an earlier message to this destination could not be sent")
                    : await SendOneAsync(messages[i], token).ConfigureAwait(false);
                unavailable |= deliveries[i].Status == OutboxDeliveryStatus.Unavailable;
            }
        }).ConfigureAwait(false);
        return deliveries;
    }

    private async Task<OutboxDelivery> SendOneAsync(OutboxEnvelope envelope, CancellationToken cancellationToken)
    {
        try
        {
            var message = MassTransitOutboxMessages.ToReplay(envelope);
            var endpoint = await bus.GetSendEndpoint(message.DestinationAddress!).ConfigureAwait(false);
            await endpoint.Send(new SerializedMessageBody(), new OutboxMessageSendPipe(message, message.DestinationAddress), cancellationToken).ConfigureAwait(false);
            return OutboxDelivery.Sent;
        }
        catch (Exception exception) when (exception is FormatException or UriFormatException or SerializationException or MessageException or ArgumentException)
        {
            return OutboxDelivery.Refused($"{exception.GetType().Name}: {exception.Message}");
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            // A broker that is down, restarting or refusing connections: not the message's fault.
            Telemetry.Log.OutboxSendFailed(logger, envelope.MessageId, envelope.Destination, exception.Message);
            return OutboxDelivery.Unavailable($"{exception.GetType().Name}: {exception.Message}");
        }
    }
}
