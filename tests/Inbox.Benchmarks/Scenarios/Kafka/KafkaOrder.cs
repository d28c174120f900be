using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Inbox.Kafka;

namespace Inbox.Benchmarks.Scenarios.Kafka;

/// <summary>The message on the topic: JSON, with its unique ID in a <c>MessageId</c> header.</summary>
public sealed record KafkaOrder(long OrderId, decimal Amount)
{
    public const string IdHeader = "MessageId";

    /// <summary>What the raw consumer does per record that the wrapper also does: read the ID header, deserialize the value.</summary>
    public static Order ToOrder(ConsumeResult<byte[]?, byte[]?> record)
    {
        var id = record.Message.Headers.TryGetLastBytes(IdHeader, out var bytes) ? Encoding.UTF8.GetString(bytes) : "";
        var message = JsonSerializer.Deserialize<KafkaOrder>(record.Message.Value, JsonSerializerOptions.Web)!;
        return new Order { MessageId = id, Amount = message.Amount };
    }
}

/// <summary>The inbox wrapper's handler: the same business row as the raw consumer writes; the inbox saves and commits.</summary>
public sealed class KafkaOrderHandler(BenchDbContext db) : IInboxHandler<KafkaOrder>
{
    public Task HandleAsync(KafkaOrder message, InboxMessageContext context, CancellationToken cancellationToken)
    {
        db.Orders.Add(new Order { MessageId = context.MessageId, Amount = message.Amount });
        return Task.CompletedTask;
    }
}
