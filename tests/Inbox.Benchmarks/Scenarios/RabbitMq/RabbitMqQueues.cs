using System.Text.Json;
using Inbox.Benchmarks.Scenarios.Messaging;
using Inbox.TestSupport;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace Inbox.Benchmarks.Scenarios.RabbitMq;

/// <summary>
/// The broker side of the RabbitMQ.Client scenarios, on one connection kept for every run: declares a run's queues
/// (durable, as <c>AddInboxRabbitMqConsumer</c> declares its queue), fills a queue before its consumer starts, counts,
/// drains and deletes queues. None of it is measured.
/// </summary>
public sealed class RabbitMqQueues : IAsyncDisposable
{
    private const int PublishWindow = 500;
    private readonly IConnection _connection;
    private IChannel? _counter;

    private RabbitMqQueues(Uri broker, IConnection connection)
    {
        Broker = broker;
        _connection = connection;
    }

    /// <summary>Gets the broker's AMQP URI, for the consumers' own connections.</summary>
    public Uri Broker { get; }

    public static async Task<RabbitMqQueues> ConnectAsync()
    {
        var broker = await Servers.RabbitMqAsync();
        var connection = await new ConnectionFactory { Uri = broker, ClientProvidedName = "inbox-bench:queues" }.CreateConnectionAsync();
        return new RabbitMqQueues(broker, connection);
    }

    /// <summary>Declares a durable queue of a run's own and returns its name.</summary>
    public async Task<string> DeclareAsync(string prefix, CancellationToken cancellationToken)
    {
        var queue = $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];
        await using var channel = await _connection.CreateChannelAsync(cancellationToken: cancellationToken);
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, cancellationToken: cancellationToken);
        return queue;
    }

    /// <summary>
    /// Declares a queue of a run's own and publishes one <see cref="OrderPlaced"/> per stream entry to it, as a plain
    /// producer would: JSON (web defaults), persistent, with an AMQP <c>message_id</c> per distinct entry, so that a
    /// repeated entry is a producer's retry of the same message (not marked redelivered). Returns once the broker has
    /// confirmed them all; returns the queue's name.
    /// </summary>
    public async Task<string> FillAsync(string prefix, IReadOnlyList<string> stream, CancellationToken cancellationToken)
    {
        var queue = await DeclareAsync(prefix, cancellationToken);
        var messageIds = stream.Distinct().ToDictionary(id => id, _ => Guid.NewGuid().ToString());
        await using var channel = await _connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true),
            cancellationToken);
        foreach (var window in stream.Chunk(PublishWindow))
        {
            await Task.WhenAll(window.Select(id => channel.BasicPublishAsync(
                "",
                queue,
                mandatory: true,
                new BasicProperties { ContentType = "application/json", Persistent = true, MessageId = messageIds[id] },
                JsonSerializer.SerializeToUtf8Bytes(new OrderPlaced(id), JsonSerializerOptions.Web),
                cancellationToken).AsTask()));
        }

        return queue;
    }

    /// <summary>How many messages wait in a queue, ready to be delivered; 0 when it does not exist.</summary>
    public async Task<uint> CountAsync(string queue, CancellationToken cancellationToken = default)
    {
        // One channel for the polling of a run; a queue that does not exist closes it, and the next count opens another.
        if (_counter is not { IsOpen: true })
        {
            if (_counter is not null)
            {
                await _counter.DisposeAsync();
            }

            _counter = await _connection.CreateChannelAsync(cancellationToken: cancellationToken);
        }

        try
        {
            return (await _counter.QueueDeclarePassiveAsync(queue, cancellationToken)).MessageCount;
        }
        catch (OperationInterruptedException)
        {
            return 0;
        }
    }

    /// <summary>
    /// Takes every message waiting in a queue off it (after the run, to check what a consumer sent there): each one's
    /// AMQP <c>message_id</c> and the order key of its <see cref="OrderShipped"/> body.
    /// </summary>
    public async Task<IReadOnlyList<(string? MessageId, string OrderKey)>> DrainAsync(string queue, CancellationToken cancellationToken)
    {
        var expected = await CountAsync(queue, cancellationToken);
        var received = new List<(string? MessageId, string OrderKey)>((int)expected);
        if (expected == 0)
        {
            return received;
        }

        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var channel = await _connection.CreateChannelAsync(cancellationToken: cancellationToken);
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += (_, args) =>
        {
            var shipped = JsonSerializer.Deserialize<OrderShipped>(args.Body.Span, JsonSerializerOptions.Web);
            lock (received)
            {
                received.Add((args.BasicProperties.MessageId, shipped?.OrderKey ?? ""));
                if (received.Count >= expected)
                {
                    all.TrySetResult();
                }
            }

            return Task.CompletedTask;
        };
        var tag = await channel.BasicConsumeAsync(queue, autoAck: true, consumer, cancellationToken);
        await all.Task.WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
        await channel.BasicCancelAsync(tag, cancellationToken: cancellationToken);
        lock (received)
        {
            return [.. received];
        }
    }

    /// <summary>Deletes a run's queues (whether or not they exist).</summary>
    public async Task DeleteAsync(params string[] queues)
    {
        await using var channel = await _connection.CreateChannelAsync();
        foreach (var queue in queues)
        {
            await channel.QueueDeleteAsync(queue);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_counter is not null)
        {
            await _counter.DisposeAsync();
        }

        await _connection.DisposeAsync();
    }
}
