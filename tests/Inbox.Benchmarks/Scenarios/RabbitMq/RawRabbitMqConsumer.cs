using System.Text.Json;
using Inbox.Benchmarks.Scenarios.Messaging;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Inbox.Benchmarks.Scenarios.RabbitMq;

/// <summary>
/// The baseline: a plain RabbitMQ.Client consumer with the inbox consumer's settings and nothing else. An
/// <see cref="AsyncEventingBasicConsumer"/> on a channel with <c>consumerDispatchConcurrency</c> (deliveries handled at
/// once) and the prefetch count, which per delivery reads the order (JSON, as the inbox consumer does), writes its row
/// with a DbContext of its own scope and <c>SaveChanges</c> (one transaction), then, when given a queue to publish to,
/// publishes one <see cref="OrderShipped"/> there on a channel with publisher confirms (persistent, <c>mandatory</c>,
/// awaiting the broker's confirm, as the outbox sends), and acknowledges. No deduplication, no retries, no
/// dead-lettering: a failed delivery is counted as a fault on the clock and left unacknowledged.
/// </summary>
/// <param name="services">The provider its DbContexts come from.</param>
/// <param name="broker">The broker; the consumer opens a connection of its own.</param>
/// <param name="queue">The queue consumed.</param>
/// <param name="prefetchCount">Unacknowledged deliveries the broker sends ahead.</param>
/// <param name="concurrency">Deliveries handled at once.</param>
/// <param name="clock">Told when each delivery starts and when it is acknowledged.</param>
/// <param name="publishTo">The queue to publish one message to per delivery, or null to publish nothing.</param>
public sealed class RawRabbitMqConsumer(
    IServiceProvider services,
    Uri broker,
    string queue,
    ushort prefetchCount,
    ushort concurrency,
    DeliveryClock clock,
    string? publishTo = null) : IQueueConsumer
{
    private readonly CancellationTokenSource _stopping = new();
    private IConnection? _connection;
    private IChannel? _channel;
    private IChannel? _publisher;
    private string? _consumerTag;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _connection = await new ConnectionFactory { Uri = broker, ClientProvidedName = $"raw:{queue}" }.CreateConnectionAsync(cancellationToken);
        _channel = await _connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: false, publisherConfirmationTrackingEnabled: false, consumerDispatchConcurrency: concurrency),
            cancellationToken);
        if (publishTo is not null)
        {
            _publisher = await _connection.CreateChannelAsync(
                new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true),
                cancellationToken);
        }

        await _channel.BasicQosAsync(0, prefetchCount, global: false, cancellationToken);
        var consumer = new AsyncEventingBasicConsumer(_channel);
        var channel = _channel;
        consumer.ReceivedAsync += (_, args) => OnReceivedAsync(channel, args);
        _consumerTag = await _channel.BasicConsumeAsync(queue, autoAck: false, consumer, cancellationToken);
    }

    private async Task OnReceivedAsync(IChannel channel, BasicDeliverEventArgs args)
    {
        clock.Start();
        try
        {
            var order = JsonSerializer.Deserialize<OrderPlaced>(args.Body.Span, JsonSerializerOptions.Web)
                ?? throw new JsonException("The body is JSON null.");
            await using (var scope = services.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<BenchDbContext>();
                db.Orders.Add(new Order { MessageId = order.OrderKey, Amount = 10 });
                await db.SaveChangesAsync(_stopping.Token);
            }

            if (_publisher is { } publisher)
            {
                await publisher.BasicPublishAsync(
                    "",
                    publishTo!,
                    mandatory: true,
                    new BasicProperties { ContentType = "application/json", Persistent = true, MessageId = Guid.NewGuid().ToString() },
                    JsonSerializer.SerializeToUtf8Bytes(new OrderShipped(order.OrderKey), JsonSerializerOptions.Web),
                    _stopping.Token);
            }

            await channel.BasicAckAsync(args.DeliveryTag, multiple: false, CancellationToken.None);
            clock.Settle();
        }
        catch (Exception exception)
        {
            clock.Fault(exception);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        if (_channel is { IsOpen: true } && _consumerTag is { } tag)
        {
            await _channel.BasicCancelAsync(tag);
        }

        foreach (var channel in new[] { _publisher, _channel })
        {
            if (channel is not null)
            {
                await channel.DisposeAsync();
            }
        }

        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }

        _stopping.Dispose();
    }
}
