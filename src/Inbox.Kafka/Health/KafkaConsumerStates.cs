using System.Collections.Concurrent;

namespace Inbox.Kafka.Health;

/// <summary>Every subscription's <see cref="KafkaConsumerState"/> in this process, for the health check.</summary>
internal sealed class KafkaConsumerStates
{
    private readonly ConcurrentDictionary<KafkaConsumerState, byte> _states = new();

    public IEnumerable<KafkaConsumerState> All => _states.Keys;

    public KafkaConsumerState Add(string consumer, string topics)
    {
        var state = new KafkaConsumerState(consumer, topics);
        _states[state] = 0;
        return state;
    }
}
