namespace Inbox.RabbitMQ.Health;

/// <summary>Where one queue's consumer is: connected, without its connection since when, or stopped by itself and why.</summary>
internal sealed class RabbitMqConsumerState(string consumer, string queue, DateTimeOffset since)
{
    private long _downSinceTicks = since.UtcTicks;
    private volatile string? _failure;

    public string Consumer { get; } = consumer;

    public string Queue { get; } = queue;

    /// <summary>Gets since when the consumer has had no connection (not yet connected, or lost), or null while connected.</summary>
    public DateTimeOffset? DownSince => Interlocked.Read(ref _downSinceTicks) is var ticks and > 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

    /// <summary>Gets why the consumer stopped by itself, or <see langword="null"/>.</summary>
    public string? Failure => _failure;

    public void Connected() => Interlocked.Exchange(ref _downSinceTicks, 0);

    /// <summary>Marks the connection lost, keeping the first time when it was lost already.</summary>
    public void Disconnected(DateTimeOffset at) => Interlocked.CompareExchange(ref _downSinceTicks, at.UtcTicks, 0);

    public void Failed(string reason) => _failure = reason;
}
