using MassTransit;

namespace Inbox.MassTransit.Tests.Support;

public static class OrderPublishing
{
    /// <summary>Sends an order with a MessageId of our choosing, so that a test can send the same one twice.</summary>
    public static async Task SendOrderAsync(this IBus bus, Uri queue, string orderId, Guid messageId)
    {
        var endpoint = await bus.GetSendEndpoint(queue);
        await endpoint.Send(new OrderPlaced(orderId), c => c.MessageId = messageId);
    }
}
