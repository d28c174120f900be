using System.Text;
using System.Text.Json;
using Inbox.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql.EntityFrameworkCore.PostgreSQL.Infrastructure;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Inbox.RabbitMQ.Tests.Support;

/// <summary>
/// A host with one <c>AddInboxRabbitMqConsumer</c> on a queue of its own, on the real RabbitMQ (build/services.sh's, or a
/// node of the test's own) and a PostgreSQL database of its own; and a connection of the test's to publish and inspect.
/// </summary>
public sealed class ConsumerHarness : IAsyncDisposable
{
    private IConnection _connection;
    private readonly PostgresDatabase? _ownDatabase;
    private readonly List<string> _queues = [];
    private readonly List<string> _exchanges = [];

    private ConsumerHarness(IConnection connection, PostgresDatabase? ownDatabase, string connectionString, string queue)
    {
        _connection = connection;
        _ownDatabase = ownDatabase;
        ConnectionString = connectionString;
        Queue = queue;
        _queues.AddRange([queue, queue + ".dead-letter"]);
    }

    public string Queue { get; }

    public string DeadLetterQueue => Queue + ".dead-letter";

    public string ConnectionString { get; }

    public HandlerProbe Probe { get; } = new();

    public IHost? Host { get; private set; }

    public List<string> Logs { get; } = [];

    /// <summary>Creates the database and the queue; <see cref="StartAsync"/> starts the consumer.</summary>
    public static async Task<ConsumerHarness> CreateAsync(Uri? broker = null, string? connectionString = null)
    {
        broker ??= await Servers.RabbitMqAsync();
        var ownDatabase = connectionString is null ? await PostgresDatabase.CreateAsync("inbox_rmq") : null;
        var connection = await new ConnectionFactory { Uri = broker }.CreateConnectionAsync();
        var harness = new ConsumerHarness(connection, ownDatabase, connectionString ?? ownDatabase!.ConnectionString, $"billing-{Guid.NewGuid():N}"[..20]) { Broker = broker };
        await using var db = harness.NewDbContext();
        await db.Database.EnsureCreatedAsync();
        return harness;
    }

    public Uri Broker { get; private init; } = null!;

    public BillingDbContext NewDbContext()
        => new(new DbContextOptionsBuilder<BillingDbContext>().UseNpgsql(ConnectionString).Options);

    /// <summary>Starts the host with the consumer and waits until it consumes.</summary>
    public async Task StartAsync(
        Action<InboxRabbitMqConsumerOptions<OrderPlaced>>? configure = null,
        Action<InboxOptions>? inbox = null,
        Action<OutboxOptions>? outbox = null,
        bool waitForConsumer = true,
        Action<NpgsqlDbContextOptionsBuilder>? npgsql = null)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders().AddProvider(new ListLoggerProvider(Logs)).SetMinimumLevel(LogLevel.Debug).AddFilter("Microsoft", LogLevel.Warning);
        builder.Services.AddDbContext<BillingDbContext>(o => o.UseNpgsql(ConnectionString, npgsql));
        builder.Services.AddInbox<BillingDbContext>(o =>
        {
            o.StoreRetryDelay = TimeSpan.FromMilliseconds(50);
            o.StoreRetryMaxDelay = TimeSpan.FromMilliseconds(500);
            inbox?.Invoke(o);
        });
        builder.Services.AddSingleton(Probe);
        builder.Services.AddHealthChecks().AddInboxRabbitMq(connectionDownThreshold: TimeSpan.FromSeconds(1));
        builder.Services.AddOutbox<BillingDbContext>(o =>
        {
            o.UseRabbitMq(new ConnectionFactory { Uri = Broker });
            o.RetryDelay = TimeSpan.FromMilliseconds(20);
            outbox?.Invoke(o);
        });
        builder.Services.AddInboxRabbitMqConsumer<BillingDbContext, OrderPlaced, OrderPlacedHandler>(o =>
        {
            o.Connection = new ConnectionFactory { Uri = Broker };
            o.Queue = Queue;
            o.RetryDelay = TimeSpan.FromMilliseconds(20);
            configure?.Invoke(o);
        });
        Host = builder.Build();
        await Host.StartAsync();
        if (waitForConsumer)
        {
            await Eventually.WaitAsync(async () => await ConsumersAsync(Queue) > 0, $"the consumer of {Queue} to be registered");
        }
    }

    /// <summary>Opens a channel on the test's own connection.</summary>
    public Task<IChannel> OpenChannelAsync() => _connection.CreateChannelAsync();

    /// <summary>Closes the test's own connection, before its broker is stopped.</summary>
    public Task DisconnectAsync() => _connection.CloseAsync();

    /// <summary>Opens the test's own connection again, once its broker is back.</summary>
    public async Task ReconnectAsync(Uri broker)
    {
        await _connection.DisposeAsync();
        _connection = await new ConnectionFactory { Uri = broker }.CreateConnectionAsync();
    }

    /// <summary>The host's health report: the RabbitMQ consumers' check.</summary>
    public Task<HealthReport> HealthAsync() => Host!.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();

    public async Task StopAsync()
    {
        if (Host is { } host)
        {
            await host.StopAsync();
            host.Dispose();
            Host = null;
        }
    }

    /// <summary>Declares the queue as the consumer does (so that messages published before it starts wait there).</summary>
    public async Task DeclareAsync(string? queueType = null)
    {
        await using var channel = await _connection.CreateChannelAsync();
        var arguments = queueType is null ? null : new Dictionary<string, object?> { ["x-queue-type"] = queueType };
        await channel.QueueDeclareAsync(Queue, durable: true, exclusive: false, autoDelete: false, arguments);
    }

    /// <summary>Publishes an order as a plain RabbitMQ producer would: JSON, persistent, with the message ID given (if any).</summary>
    public Task PublishAsync(string? messageId, string orderId, Action<BasicProperties>? properties = null)
        => PublishRawAsync(JsonSerializer.SerializeToUtf8Bytes(new { orderId }), p =>
        {
            p.MessageId = messageId;
            properties?.Invoke(p);
        });

    public async Task PublishRawAsync(byte[] body, Action<BasicProperties> properties)
    {
        await using var channel = await _connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        var basic = new BasicProperties { ContentType = "application/json", Persistent = true };
        properties(basic);
        await channel.BasicPublishAsync("", Queue, mandatory: true, basic, body);
    }

    /// <summary>Declares an exchange of the test's own (deleted with the harness) and publishes an order to it.</summary>
    public async Task<string> DeclareExchangeAsync(string type)
    {
        var name = $"billing-x-{Guid.NewGuid():N}"[..22];
        _exchanges.Add(name);
        await using var channel = await _connection.CreateChannelAsync();
        await channel.ExchangeDeclareAsync(name, type, durable: true);
        return name;
    }

    public async Task PublishToExchangeAsync(string exchange, string routingKey, string messageId, string orderId)
    {
        await using var channel = await _connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        await channel.BasicPublishAsync(
            exchange, routingKey, mandatory: false, new BasicProperties { ContentType = "application/json", Persistent = true, MessageId = messageId },
            JsonSerializer.SerializeToUtf8Bytes(new { orderId }));
    }

    /// <summary>Publishes many orders on one channel, waiting for the broker's confirms.</summary>
    public async Task PublishManyAsync(IEnumerable<(string MessageId, string OrderId)> messages)
    {
        await using var channel = await _connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        foreach (var chunk in messages.Chunk(200))
        {
            await Task.WhenAll(chunk.Select(m => channel.BasicPublishAsync(
                "", Queue, mandatory: true, new BasicProperties { ContentType = "application/json", Persistent = true, MessageId = m.MessageId },
                JsonSerializer.SerializeToUtf8Bytes(new { orderId = m.OrderId })).AsTask()));
        }
    }

    /// <summary>How many messages wait in a queue, ready (not delivered and unacknowledged); 0 when it does not exist.</summary>
    public async Task<uint> CountAsync(string queue)
    {
        await using var channel = await _connection.CreateChannelAsync();
        try
        {
            return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
        }
        catch (OperationInterruptedException)
        {
            return 0;
        }
    }

    public async Task<uint> ConsumersAsync(string queue)
    {
        await using var channel = await _connection.CreateChannelAsync();
        try
        {
            return (await channel.QueueDeclarePassiveAsync(queue)).ConsumerCount;
        }
        catch (OperationInterruptedException)
        {
            return 0;
        }
    }

    /// <summary>Takes every message from a queue, acknowledged.</summary>
    public async Task<List<(string Body, IReadOnlyBasicProperties Properties)>> DrainAsync(string queue)
    {
        var messages = new List<(string, IReadOnlyBasicProperties)>();
        await using var channel = await _connection.CreateChannelAsync();
        while (await channel.BasicGetAsync(queue, autoAck: true) is { } result)
        {
            messages.Add((Encoding.UTF8.GetString(result.Body.Span), result.BasicProperties));
        }

        return messages;
    }

    /// <summary>
    /// Takes the first message of the queue without acknowledging it and hands it back: the broker puts it back marked as
    /// redelivered, as after a consumer's connection was lost before its acknowledgement.
    /// </summary>
    public async Task RequeueFirstAsRedeliveredAsync()
    {
        await using var channel = await _connection.CreateChannelAsync();
        var taken = await channel.BasicGetAsync(Queue, autoAck: false) ?? throw new InvalidOperationException($"Queue {Queue} is empty.");
        await channel.BasicNackAsync(taken.DeliveryTag, multiple: false, requeue: true);
    }

    /// <summary>
    /// A queue of the test's own besides the consumer's, deleted with the harness, and so is the dead-letter queue a
    /// consumer of it declares.
    /// </summary>
    public async Task<string> DeclareOtherQueueAsync(string prefix)
    {
        var name = $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];
        _queues.AddRange([name, name + ".dead-letter"]);
        await using var channel = await _connection.CreateChannelAsync();
        await channel.QueueDeclareAsync(name, durable: true, exclusive: false, autoDelete: false);
        return name;
    }

    /// <summary>The outbox rows: how many wait, and how many are kept as failed.</summary>
    public async Task<(int Pending, int Failed)> OutboxAsync()
    {
        await using var db = NewDbContext();
        var rows = await db.Database.SqlQueryRaw<OutboxCount>(
            "SELECT count(*) FILTER (WHERE failed_at IS NULL)::int AS \"Pending\", count(*) FILTER (WHERE failed_at IS NOT NULL)::int AS \"Failed\" FROM outbox_messages").ToListAsync();
        return (rows[0].Pending, rows[0].Failed);
    }

    public async Task<List<Invoice>> InvoicesAsync()
    {
        await using var db = NewDbContext();
        return await db.Invoices.AsNoTracking().OrderBy(i => i.Id).ToListAsync();
    }

    private sealed record OutboxCount(int Pending, int Failed);

    public static string? Header(IReadOnlyBasicProperties properties, string name)
        => properties.Headers?.TryGetValue(name, out var value) == true
            ? value as string ?? (value is byte[] bytes ? Encoding.UTF8.GetString(bytes) : value?.ToString())
            : null;

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await using (var channel = await _connection.CreateChannelAsync())
        {
            foreach (var queue in _queues)
            {
                await channel.QueueDeleteAsync(queue);
            }

            foreach (var exchange in _exchanges)
            {
                await channel.ExchangeDeleteAsync(exchange);
            }
        }

        await _connection.DisposeAsync();
        if (_ownDatabase is not null)
        {
            await _ownDatabase.DisposeAsync();
        }
    }
}
