using System.Text.Json;
using System.Threading.Channels;
using Inbox.Benchmarks.Scenarios.Messaging;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Inbox.Benchmarks.Scenarios.RabbitMq;

/// <summary>
/// The batch baseline: a plain RabbitMQ.Client consumer batching as Inbox.RabbitMQ's batch mode does and doing nothing
/// else. The callback (one at a time) reads each order and queues it; one loop takes what has arrived, up to the batch
/// size, and runs up to <c>concurrency</c> batches at once, each writing a row per order with one DbContext and one
/// <c>SaveChanges</c> (one transaction) and then acknowledging its own deliveries one by one (a multiple-ack could cover
/// a batch still running). No deduplication, no retries, no dead-lettering.
/// </summary>
/// <param name="services">The provider its DbContexts come from.</param>
/// <param name="broker">The broker; the consumer opens a connection of its own.</param>
/// <param name="queue">The queue consumed.</param>
/// <param name="prefetchCount">Unacknowledged deliveries the broker sends ahead.</param>
/// <param name="batchSize">The most deliveries in one transaction.</param>
/// <param name="concurrency">Batches at once.</param>
/// <param name="clock">Told when each delivery starts and when it is acknowledged.</param>
public sealed class RawRabbitMqBatchConsumer(
    IServiceProvider services,
    Uri broker,
    string queue,
    ushort prefetchCount,
    int batchSize,
    int concurrency,
    DeliveryClock clock) : IQueueConsumer
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly Channel<(ulong Tag, OrderPlaced Order)> _waiting = Channel.CreateUnbounded<(ulong, OrderPlaced)>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private IConnection? _connection;
    private IChannel? _channel;
    private string? _consumerTag;
    private Task _loop = Task.CompletedTask;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _connection = await new ConnectionFactory { Uri = broker, ClientProvidedName = $"raw-batch:{queue}" }.CreateConnectionAsync(cancellationToken);
        _channel = await _connection.CreateChannelAsync(cancellationToken: cancellationToken);
        await _channel.BasicQosAsync(0, prefetchCount, global: false, cancellationToken);
        var channel = _channel;
        _loop = Task.Run(() => RunAsync(channel), CancellationToken.None);
        var consumer = new AsyncEventingBasicConsumer(_channel);
        consumer.ReceivedAsync += (_, args) =>
        {
            clock.Start();
            var order = JsonSerializer.Deserialize<OrderPlaced>(args.Body.Span, JsonSerializerOptions.Web) ?? throw new JsonException("The body is JSON null.");
            _waiting.Writer.TryWrite((args.DeliveryTag, order));
            return Task.CompletedTask;
        };
        _consumerTag = await _channel.BasicConsumeAsync(queue, autoAck: false, consumer, cancellationToken);
    }

    private async Task RunAsync(IChannel channel)
    {
        using var slots = new SemaphoreSlim(concurrency, concurrency);
        var running = new List<Task>();
        while (await _waiting.Reader.WaitToReadAsync(CancellationToken.None))
        {
            await slots.WaitAsync();
            var batch = new List<(ulong Tag, OrderPlaced Order)>(batchSize);
            while (batch.Count < batchSize && _waiting.Reader.TryRead(out var item))
            {
                batch.Add(item);
            }

            running.RemoveAll(static t => t.IsCompleted);
            running.Add(Task.Run(async () =>
            {
                try
                {
                    await SaveAndAckAsync(channel, batch);
                }
                finally
                {
                    slots.Release();
                }
            }));
        }

        await Task.WhenAll(running);
    }

    private async Task SaveAndAckAsync(IChannel channel, List<(ulong Tag, OrderPlaced Order)> batch)
    {
        try
        {
            await using (var scope = services.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<BenchDbContext>();
                db.Orders.AddRange(batch.Select(b => new Order { MessageId = b.Order.OrderKey, Amount = 10 }));
                await db.SaveChangesAsync(_stopping.Token);
            }

            foreach (var (tag, _) in batch)
            {
                await channel.BasicAckAsync(tag, multiple: false, CancellationToken.None);
            }

            batch.ForEach(_ => clock.Settle());
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

        _waiting.Writer.TryComplete();
        await _loop;
        if (_channel is not null)
        {
            await _channel.DisposeAsync();
        }

        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }

        _stopping.Dispose();
    }
}
