using System.Collections.Concurrent;

namespace Inbox.RabbitMQ.Health;

/// <summary>Every RabbitMQ consumer's <see cref="RabbitMqConsumerState"/> in this process, for the health check.</summary>
internal sealed class RabbitMqConsumerStates
{
    private readonly ConcurrentDictionary<RabbitMqConsumerState, byte> _states = new();

    public IEnumerable<RabbitMqConsumerState> All => _states.Keys;

    public RabbitMqConsumerState Add(string consumer, string queue, DateTimeOffset since)
    {
        var state = new RabbitMqConsumerState(consumer, queue, since);
        _states[state] = 0;
        return state;
    }

    public void Remove(RabbitMqConsumerState state) => _states.TryRemove(state, out _);
}
