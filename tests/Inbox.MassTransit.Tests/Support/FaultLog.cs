using System.Collections.Concurrent;
using MassTransit;

namespace Inbox.MassTransit.Tests.Support;

/// <summary>The messages that reached an in-memory error queue, with the reason MassTransit recorded.</summary>
public sealed class FaultLog
{
    public ConcurrentQueue<(string OrderId, Guid? MessageId, string? Reason, string? ExceptionType)> Faults { get; } = new();

    /// <summary>Listens on <paramref name="queue"/>'s error queue.</summary>
    public void Listen(IInMemoryBusFactoryConfigurator cfg, string queue)
        => cfg.ReceiveEndpoint($"{queue}_error", e => e.Handler<OrderPlaced>(context =>
        {
            Faults.Enqueue((
                context.Message.OrderId,
                context.MessageId,
                context.ReceiveContext.TransportHeaders.Get<string>(MessageHeaders.FaultMessage),
                context.ReceiveContext.TransportHeaders.Get<string>(MessageHeaders.FaultExceptionType)));
            return Task.CompletedTask;
        }));
}
