using Inbox.Kafka.Consuming;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Inbox.Kafka.Tests.Infrastructure;

/// <summary>A worker-service host with one Kafka inbox consumer, as an application would build it.</summary>
public sealed class ConsumerHost : IAsyncDisposable
{
    private readonly IHost _host;
    private bool _stopped;

    private ConsumerHost(IHost host, TestOutputLoggerProvider logs)
    {
        _host = host;
        Logs = logs;
        Probe = host.Services.GetRequiredService<HandlerProbe>();
    }

    public HandlerProbe Probe { get; }

    /// <summary>What the consumer logged, counted by event ID (Debug included; only Information and up is written out).</summary>
    public TestOutputLoggerProvider Logs { get; }

    public IServiceProvider Services => _host.Services;

    public IHostApplicationLifetime Lifetime => _host.Services.GetRequiredService<IHostApplicationLifetime>();

    /// <summary>The subscription's hosted service.</summary>
    internal InboxKafkaConsumerService<TestDbContext, OrderPlaced, OrderPlacedHandler> Service =>
        _host.Services.GetServices<IHostedService>().OfType<InboxKafkaConsumerService<TestDbContext, OrderPlaced, OrderPlacedHandler>>().Single();

    public static async Task<ConsumerHost> StartAsync(
        string connectionString,
        ITestOutputHelper output,
        string name,
        Action<InboxKafkaConsumerOptions<OrderPlaced>> configure,
        Action<IServiceCollection>? services = null)
    {
        var builder = Host.CreateApplicationBuilder();
        var logs = new TestOutputLoggerProvider(output, name);
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(logs);
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Logging.AddFilter("Inbox", LogLevel.Debug);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Services.AddDbContext<TestDbContext>(o => o.UseNpgsql(connectionString));
        builder.Services.AddInbox<TestDbContext>(o => o.PurgeEnabled = false);
        builder.Services.AddSingleton<HandlerProbe>();
        builder.Services.AddInboxKafkaConsumer<TestDbContext, OrderPlaced, OrderPlacedHandler>(configure);
        services?.Invoke(builder.Services);
        var host = builder.Build();
        await host.StartAsync();
        return new ConsumerHost(host, logs);
    }

    /// <summary>Graceful stop: in-flight batches finish, offsets are committed, the consumer leaves the group.</summary>
    public async Task StopAsync()
    {
        if (!_stopped)
        {
            _stopped = true;
            await _host.StopAsync(TimeSpan.FromSeconds(30));
        }
    }

    /// <summary>Dies like a killed process: no finishing, no commit, no Close; the group waits out the session timeout.</summary>
    public async Task AbandonAsync()
    {
        await Service.AbandonAsync();
        _stopped = true;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _host.Dispose();
    }
}

public sealed class TestOutputLoggerProvider(ITestOutputHelper output, string name) : ILoggerProvider
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, int> _counts = new();

    public int Count(int eventId) => _counts.GetValueOrDefault(eventId);

    public ILogger CreateLogger(string categoryName) => new Logger(output, name, _counts);

    public void Dispose()
    {
    }

    private sealed class Logger(ITestOutputHelper output, string name, System.Collections.Concurrent.ConcurrentDictionary<int, int> counts) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            counts.AddOrUpdate(eventId.Id, 1, static (_, n) => n + 1);
            if (logLevel < LogLevel.Information)
            {
                return;
            }

            try
            {
                output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} [{name}] {logLevel}: {formatter(state, exception)}{(exception is null ? "" : " | " + exception.GetType().Name + ": " + exception.Message)}");
            }
            catch (InvalidOperationException)
            {
                // The test has finished; its output is closed.
            }
        }
    }
}
