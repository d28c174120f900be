namespace Inbox.Kafka.Health;

/// <summary>Where one subscription's consumer is: running, stopped on request, or stopped by itself and why.</summary>
internal sealed class KafkaConsumerState(string consumer, string topics)
{
    private volatile string? _failure;
    private volatile bool _running;

    public string Consumer { get; } = consumer;

    public string Topics { get; } = topics;

    public bool Running => _running;

    /// <summary>Gets why the consumer stopped by itself, or <see langword="null"/>.</summary>
    public string? Failure => _failure;

    public Func<(int Assigned, int Paused)> Partitions { get; set; } = static () => (0, 0);

    public void Started() => _running = true;

    public void Stopped() => _running = false;

    public void Failed(string reason)
    {
        _failure = reason;
        _running = false;
    }
}
