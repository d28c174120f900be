namespace Inbox.Benchmarks.Scenarios.RabbitMq;

/// <summary>
/// One variant's consumer of a run's queue, created ready to start: the scenario starts it after the CPU counters are
/// read, so that building it (a host, a service provider) is not counted, while connecting to the broker is (as
/// MassTransit's endpoint connection is in its scenarios). Disposing it stops it.
/// </summary>
public interface IQueueConsumer : IAsyncDisposable
{
    /// <summary>Connects and starts consuming; deliveries may arrive before it returns.</summary>
    Task StartAsync(CancellationToken cancellationToken);
}
