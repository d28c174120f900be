using System.Text;
using System.Text.Json;
using Inbox.TestSupport;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Inbox.MassTransit.Tests.Support;

/// <summary>Talks to the broker directly, under MassTransit: raw messages in, error queues out.</summary>
public sealed class RabbitMqQueues : IAsyncDisposable
{
    private static readonly string OrderPlacedType = $"urn:message:{typeof(OrderPlaced).Namespace}:{nameof(OrderPlaced)}";

    private readonly IConnection _connection;
    private readonly List<string> _created = [];

    private RabbitMqQueues(IConnection connection) => _connection = connection;

    public static async Task<RabbitMqQueues> ConnectAsync(Uri? broker = null)
        => new(await new ConnectionFactory { Uri = broker ?? await Servers.RabbitMqAsync() }.CreateConnectionAsync());

    /// <summary>A queue name of its own for one test; its queues are deleted afterwards.</summary>
    public string NewQueueName(string prefix)
    {
        var name = $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];
        _created.Add(name);
        return name;
    }

    /// <summary>How many messages wait in a queue; 0 when it does not exist (MassTransit declares error queues on first use).</summary>
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

    /// <summary>Takes every message from a queue: its body and the MassTransit fault reason.</summary>
    public async Task<List<(byte[] Body, IReadOnlyBasicProperties Properties, string? Reason, string? ExceptionType)>> DrainAsync(string queue)
    {
        var messages = new List<(byte[], IReadOnlyBasicProperties, string?, string?)>();
        await using var channel = await _connection.CreateChannelAsync();
        while (await channel.BasicGetAsync(queue, autoAck: true) is { } result)
        {
            messages.Add((result.Body.ToArray(), result.BasicProperties, Header(result.BasicProperties, "MT-Fault-Message"), Header(result.BasicProperties, "MT-Fault-ExceptionType")));
        }

        return messages;
    }

    /// <summary>Puts a raw message on a queue, as a producer outside MassTransit would.</summary>
    public async Task PublishRawAsync(string queue, string body, string contentType = "application/vnd.masstransit+json", IReadOnlyBasicProperties? copyFrom = null)
        => await PublishRawAsync(queue, Encoding.UTF8.GetBytes(body), contentType, copyFrom);

    public async Task PublishRawAsync(string queue, byte[] body, string contentType, IReadOnlyBasicProperties? copyFrom = null)
    {
        await using var channel = await _connection.CreateChannelAsync();
        var properties = copyFrom is null ? new BasicProperties { ContentType = contentType } : new BasicProperties(copyFrom);
        await channel.BasicPublishAsync("", queue, mandatory: false, properties, body);
    }

    /// <summary>Puts a raw message on a queue with the properties a producer outside MassTransit sets (message_id, headers, ...).</summary>
    public async Task PublishRawAsync(string queue, string body, string contentType, Action<BasicProperties> properties)
    {
        await using var channel = await _connection.CreateChannelAsync();
        var basic = new BasicProperties { ContentType = contentType };
        properties(basic);
        await channel.BasicPublishAsync("", queue, mandatory: false, basic, Encoding.UTF8.GetBytes(body));
    }

    /// <summary>Puts an <see cref="OrderPlaced"/> in MassTransit's JSON envelope on a queue, as MassTransit would, with a sent time of the test's choosing.</summary>
    public Task PublishOrderEnvelopeAsync(string queue, Guid messageId, DateTime sentTime, string orderId)
    {
        var envelope = JsonSerializer.Serialize(new
        {
            messageId = messageId.ToString(),
            sentTime = sentTime.ToString("O"),
            messageType = new[] { OrderPlacedType },
            message = new { orderId },
        });
        return PublishRawAsync(queue, envelope, "application/vnd.masstransit+json", p => p.MessageId = messageId.ToString());
    }

    /// <summary>
    /// Takes the first message of a queue without acknowledging it and hands it back: the broker puts it back at the head
    /// of the queue marked as redelivered, as it does after a consumer's connection was lost before its acknowledgement.
    /// </summary>
    public async Task RequeueFirstAsRedeliveredAsync(string queue)
    {
        await using var channel = await _connection.CreateChannelAsync();
        var taken = await channel.BasicGetAsync(queue, autoAck: false) ?? throw new InvalidOperationException($"Queue {queue} is empty.");
        await channel.BasicNackAsync(taken.DeliveryTag, multiple: false, requeue: true);
    }

    public async ValueTask DisposeAsync()
    {
        await using (var channel = await _connection.CreateChannelAsync())
        {
            foreach (var name in _created)
            {
                foreach (var queue in new[] { name, name + "_error", name + "_skipped" })
                {
                    await channel.QueueDeleteAsync(queue);
                    await channel.ExchangeDeleteAsync(queue);
                }
            }
        }

        await _connection.DisposeAsync();
    }

    private static string? Header(IReadOnlyBasicProperties properties, string name)
        => properties.Headers?.TryGetValue(name, out var value) == true
            ? value as string ?? (value is byte[] bytes ? Encoding.UTF8.GetString(bytes) : value?.ToString())
            : null;
}
