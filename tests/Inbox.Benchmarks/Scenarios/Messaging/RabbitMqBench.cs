using Inbox.TestSupport;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Inbox.Benchmarks.Scenarios.Messaging;

/// <summary>
/// A MassTransit bus on RabbitMQ over a <see cref="PostgresBench"/> database, started once and kept for every run;
/// each run fills a queue of its own, connects a receive endpoint to it and deletes the queue afterwards.
/// </summary>
public sealed class RabbitMqBench : IAsyncDisposable
{
    private const int SendWindow = 500;
    private readonly IBusControl _bus;
    private readonly IConnection _admin;

    private readonly List<IHostedService> _started = [];
    private InboxMode _mode = new();

    private RabbitMqBench(PostgresBench postgres, IBusControl bus, IConnection admin)
    {
        Postgres = postgres;
        _bus = bus;
        _admin = admin;
    }

    public IBus Bus => _bus;

    public PostgresBench Postgres { get; }

    /// <summary>Sees every delivery of the queue it is told to watch.</summary>
    public ConsumptionTracker Tracker { get; } = new();

    /// <summary>Starts a bus with the given consumers registered but no receive endpoint: each run connects its own.</summary>
    /// <param name="addConsumers">Registers the consumers (and whatever else the bus needs).</param>
    /// <param name="hosted">
    /// Starts every hosted service as a host would (the bus among them, and the outbox dispatcher where there is one),
    /// rather than the bus alone. The inbox's purger stays off either way.
    /// </param>
    public static async Task<RabbitMqBench> StartAsync(Action<IBusRegistrationConfigurator> addConsumers, bool hosted = false)
    {
        var broker = await Servers.RabbitMqAsync();
        var credentials = broker.UserInfo.Split(':');
        var mode = new InboxMode();
        var postgres = await PostgresBench.CreateAsync(
            o =>
            {
                o.PurgeEnabled = false;
                o.OneRoundTrip = mode.OneRoundTrip;
                o.OneRoundTripLookup = mode.Lookup;
            },
            services => services.AddMassTransit(x =>
        {
            addConsumers(x);
            x.UsingRabbitMq((_, cfg) => cfg.Host(broker.Host, (ushort)broker.Port, "/", h =>
            {
                h.Username(Uri.UnescapeDataString(credentials[0]));
                h.Password(Uri.UnescapeDataString(credentials[1]));
            }));
        }));
        var bus = postgres.Services.GetRequiredService<IBusControl>();
        var admin = await new ConnectionFactory { Uri = broker }.CreateConnectionAsync();
        var bench = new RabbitMqBench(postgres, bus, admin) { _mode = mode };
        bus.ConnectReceiveObserver(bench.Tracker);
        if (hosted)
        {
            foreach (var service in postgres.Services.GetServices<IHostedService>())
            {
                await service.StartAsync(CancellationToken.None);
                bench._started.Add(service);
            }
        }
        else
        {
            await bus.StartAsync();
        }

        return bench;
    }

    /// <summary>
    /// Sends one <see cref="OrderPlaced"/> per stream entry to a new queue, with a MessageId per distinct entry (so a
    /// repeated entry is a redelivery), and returns when the broker has confirmed them all. Returns the queue's name.
    /// </summary>
    public async Task<string> FillAsync(string prefix, IReadOnlyList<string> stream, CancellationToken cancellationToken)
    {
        var queue = $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];
        var messageIds = stream.Distinct().ToDictionary(id => id, _ => NewId.NextGuid());
        var endpoint = await _bus.GetSendEndpoint(new Uri($"queue:{queue}"));
        foreach (var window in stream.Chunk(SendWindow))
        {
            await Task.WhenAll(window.Select(id => endpoint.Send(new OrderPlaced(id), c => c.MessageId = messageIds[id], cancellationToken)));
        }

        return queue;
    }

    /// <summary>Connects a receive endpoint to the queue on the running bus; it starts consuming at once.</summary>
    public async Task<HostReceiveEndpointHandle> ConsumeAsync(string queue, Action<IBusRegistrationContext, IRabbitMqReceiveEndpointConfigurator> configure)
    {
        var connector = Postgres.Services.GetRequiredService<IReceiveEndpointConnector>();
        var handle = connector.ConnectReceiveEndpoint(queue, (context, e) =>
        {
            e.ConfigureConsumeTopology = false;
            configure(context, (IRabbitMqReceiveEndpointConfigurator)e);
        });
        await handle.Ready;
        return handle;
    }

    /// <summary>Switches the inbox's <see cref="InboxOptions.OneRoundTrip"/> and its lookup for the runs that follow.</summary>
    public void UseOneRoundTrip(bool value, InboxLookup lookup = InboxLookup.Always)
    {
        _mode.OneRoundTrip = value;
        _mode.Lookup = lookup;
        Postgres.Services.GetRequiredService<IOptionsMonitorCache<InboxOptions>>().TryRemove(typeof(BenchDbContext).FullName ?? nameof(BenchDbContext));
    }

    /// <summary>Declares a queue of a run's own bound to an exchange, to count what is published there; returns its name.</summary>
    public async Task<string> BindCounterAsync(string exchange, string prefix)
    {
        var queue = $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];
        await using var channel = await _admin.CreateChannelAsync();
        await channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: true);
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);
        await channel.QueueBindAsync(queue, exchange, "");
        return queue;
    }

    /// <summary>How many messages wait in a queue; 0 when it does not exist (MassTransit declares error queues on first use).</summary>
    public async Task<uint> CountAsync(string queue)
    {
        await using var channel = await _admin.CreateChannelAsync();
        try
        {
            return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
        }
        catch (OperationInterruptedException)
        {
            return 0;
        }
    }

    /// <summary>Deletes a run's queue and the exchange MassTransit bound to it, with their error and skipped queues.</summary>
    public async Task DeleteAsync(string queue)
    {
        await using var channel = await _admin.CreateChannelAsync();
        foreach (var name in new[] { queue, queue + "_error", queue + "_skipped" })
        {
            await channel.QueueDeleteAsync(name);
            await channel.ExchangeDeleteAsync(name);
        }
    }

    public async ValueTask DisposeAsync()
    {
        for (var i = _started.Count - 1; i >= 0; i--)
        {
            await _started[i].StopAsync(CancellationToken.None);
        }

        await _bus.StopAsync();
        await _admin.DisposeAsync();
        await Postgres.DisposeAsync();
    }
}

/// <summary>The inbox options a benchmark switches between runs (read when the options are built again).</summary>
internal sealed class InboxMode
{
    public bool OneRoundTrip { get; set; }

    public InboxLookup Lookup { get; set; }
}
