using System.Collections.Concurrent;
using System.Text;

namespace Inbox.Tests.Outbox;

/// <summary>A transport that records what it was asked to send, in order, and answers as the test says.</summary>
public sealed class FakeTransport : IOutboxTransport
{
    // Shared by every fake transport, so that sends of two dispatchers can be put in one order.
    private static long _sequence;

    public ConcurrentQueue<(long Sequence, string Destination, string? Key, string MessageId, string Body, int Attempts)> Sent { get; } = new();

    /// <summary>Set by a test: the delivery for a message; sent by default.</summary>
    public Func<OutboxEnvelope, OutboxDelivery> Answer { get; set; } = _ => OutboxDelivery.Sent;

    /// <summary>Set by a test: awaited before the deliveries are reported, to hold a dispatch in flight.</summary>
    public Func<Task>? Hold { get; set; }

    public async Task<IReadOnlyList<OutboxDelivery>> SendAsync(IReadOnlyList<OutboxEnvelope> messages, CancellationToken cancellationToken)
    {
        var deliveries = new List<OutboxDelivery>(messages.Count);
        foreach (var message in messages)
        {
            var delivery = Answer(message);
            if (delivery.Status == OutboxDeliveryStatus.Sent)
            {
                Sent.Enqueue((Interlocked.Increment(ref _sequence), message.Destination, message.PartitionKey, message.MessageId, Encoding.UTF8.GetString(message.Body.Span), message.Attempts));
            }

            deliveries.Add(delivery);
        }

        if (Hold is { } hold)
        {
            await hold();
        }

        return deliveries;
    }
}
