using System.Collections.Concurrent;

namespace Inbox.MassTransit.Tests.Support;

/// <summary>What the consumers saw, shared by a test and its consumers (a singleton per host).</summary>
public sealed class Probe
{
    private int _calls;
    private int _events;

    public int Calls => Volatile.Read(ref _calls);

    /// <summary>Gets how many events the downstream consumer was called for, duplicates included.</summary>
    public int Events => Volatile.Read(ref _events);

    public void SawEvent(string orderId)
    {
        Interlocked.Increment(ref _events);
        EventOrderIds.Enqueue(orderId);
    }

    /// <summary>Gets the order IDs of the events the downstream consumer was called for, in the order it was called.</summary>
    public ConcurrentQueue<string> EventOrderIds { get; } = new();

    public ConcurrentQueue<string> OrderIds { get; } = new();

    public ConcurrentQueue<int> BatchSizes { get; } = new();

    /// <summary>Set by a test to make the consumers throw.</summary>
    public Func<OrderPlaced, Exception?> Failure { get; set; } = _ => null;

    public void Saw(OrderPlaced message)
    {
        Interlocked.Increment(ref _calls);
        OrderIds.Enqueue(message.OrderId);
    }
}
