using System.Text.Json;
using Inbox.Benchmarks.Scenarios.Kafka;
using Inbox.Benchmarks.Scenarios.Messaging;
using Inbox.RabbitMQ;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;

namespace Inbox.Benchmarks.Scenarios.RabbitMq;

/// <summary>
/// An application host running <c>AddInboxRabbitMqConsumer</c> on a run's queue, as a service would, over the
/// benchmark's database (purger off). The clock starts at the first delivery read (the consumer's deserializer, which
/// is the default one, JSON with web defaults, plus the clock) and counts a delivery settled when the inbox reports it
/// processed or a duplicate (<c>inbox.messages.processed</c> and <c>inbox.messages.duplicate</c> for this queue's
/// consumer key): after its commit, just before its acknowledgement.
/// </summary>
public sealed class InboxConsumerHost : IQueueConsumer
{
    private readonly IHost _host;
    private readonly HandledCounter _settled;

    private InboxConsumerHost(IHost host, HandledCounter settled)
    {
        _host = host;
        _settled = settled;
    }

    /// <summary>Builds the host; <see cref="StartAsync"/> starts it.</summary>
    /// <typeparam name="THandler">The handler of each order.</typeparam>
    /// <param name="postgres">The benchmark's database.</param>
    /// <param name="broker">The broker.</param>
    /// <param name="queue">The run's queue; also the inbox consumer key.</param>
    /// <param name="clock">The run's clock.</param>
    /// <param name="consumer">The consumer's options for the variant (prefetch, concurrency, ...).</param>
    /// <param name="inbox">The inbox options for the variant, or null for the defaults.</param>
    /// <param name="services">More services, e.g. the outbox.</param>
    public static InboxConsumerHost Create<THandler>(
        PostgresBench postgres,
        Uri broker,
        string queue,
        DeliveryClock clock,
        Action<InboxRabbitMqConsumerOptions<OrderPlaced>> consumer,
        Action<InboxOptions>? inbox = null,
        Action<IServiceCollection>? services = null)
        where THandler : class, IRabbitMqInboxHandler<OrderPlaced>
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);

        // EF Core logs every failed statement at Error with its stack trace, among them the inbox record's primary-key
        // violation of a copy that OneRoundTrip did not look up (expected, rolled back, reported as a duplicate):
        // thousands of console writes in the measured window of rabbitmq-dup, which the MassTransit scenarios (no
        // logger at all) do not pay. A real failure still shows in the run's checks and in the consumer's own log.
        builder.Logging.AddFilter("Microsoft.EntityFrameworkCore", LogLevel.None);
        builder.Services.AddDbContext<BenchDbContext>(o => o.UseNpgsql(postgres.ConnectionString)
            .ReplaceService<Microsoft.EntityFrameworkCore.Infrastructure.IModelCacheKeyFactory, BenchModelCacheKeys>());
        builder.Services.AddInbox<BenchDbContext>(o =>
        {
            o.PurgeEnabled = false;
            inbox?.Invoke(o);
        });
        builder.Services.AddInboxRabbitMqConsumer<BenchDbContext, OrderPlaced, THandler>(o =>
        {
            o.Connection = new ConnectionFactory { Uri = broker };
            o.Queue = queue;
            o.Deserializer = body =>
            {
                clock.Start();
                return JsonSerializer.Deserialize<OrderPlaced>(body.Span, JsonSerializerOptions.Web)!;
            };
            consumer(o);
        });
        services?.Invoke(builder.Services);
        return new InboxConsumerHost(builder.Build(), new HandledCounter(queue, clock.SettledUpTo));
    }

    public Task StartAsync(CancellationToken cancellationToken) => _host.StartAsync(cancellationToken);

    /// <summary>Stops the host: the consumer lets deliveries in flight finish and acknowledges them.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await _host.StopAsync();
        }
        finally
        {
            _settled.Dispose();
            _host.Dispose();
        }
    }
}
