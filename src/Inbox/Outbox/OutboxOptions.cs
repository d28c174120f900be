namespace Inbox;

/// <summary>Options of one DbContext's outbox dispatcher. Validated at start-up.</summary>
public sealed class OutboxOptions
{
    private readonly Dictionary<string, Func<IServiceProvider, IOutboxTransport>> _transports = new(StringComparer.Ordinal);

    /// <summary>
    /// Gets or sets how often the dispatcher looks for committed messages it was not woken for: those of another
    /// instance that died before sending them, or written by a process without a dispatcher.
    /// </summary>
    /// <value>1 second. Positive.</value>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets how many messages one dispatch reads, sends and deletes together.</summary>
    /// <value>500. Between 1 and 10,000.</value>
    public int BatchSize { get; set; } = 500;

    /// <summary>Gets or sets how many times the broker may refuse a message before it is kept as failed and skipped.</summary>
    /// <value>5. Between 1 and 1,000.</value>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>
    /// Gets or sets into how many lanes the messages are divided by destination and key. Each lane is dispatched by one
    /// instance at a time, in order; several instances share the lanes.
    /// </summary>
    /// <value>16. Between 1 and 1,024. Change it only while no message is pending.</value>
    public int Lanes { get; set; } = 16;

    /// <summary>Gets or sets the first delay after a broker or database outage; it doubles, with jitter, up to <see cref="RetryMaxDelay"/>.</summary>
    /// <value>200 milliseconds. Positive, at most <see cref="RetryMaxDelay"/>.</value>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Gets or sets the longest delay between dispatch attempts during an outage.</summary>
    /// <value>30 seconds. Positive.</value>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how old the oldest pending message may get before the health check reports Degraded.</summary>
    /// <value>1 minute. Positive.</value>
    public TimeSpan PendingAgeThreshold { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Gets or sets whether this process runs a dispatcher. Turn it off in processes that only write messages.</summary>
    /// <value><see langword="true"/>.</value>
    public bool DispatchEnabled { get; set; } = true;

    internal IReadOnlyDictionary<string, Func<IServiceProvider, IOutboxTransport>> Transports => _transports;

    /// <summary>Registers the transport that sends the messages written for <paramref name="name"/>.</summary>
    /// <param name="name">The transport name messages are written with, e.g. <c>kafka</c>.</param>
    /// <param name="factory">Creates the transport once, from the application's services.</param>
    /// <returns>These options.</returns>
    public OutboxOptions AddTransport(string name, Func<IServiceProvider, IOutboxTransport> factory)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(factory);
        _transports[name] = factory;
        return this;
    }
}
