using System.Text.Json;
using Confluent.Kafka;

namespace Inbox.Kafka.Consuming;

/// <summary>The default deserializer: System.Text.Json. A null value or JSON <c>null</c> is not a message.</summary>
internal sealed class JsonMessageDeserializer<TMessage>(JsonSerializerOptions options) : IDeserializer<TMessage>
{
    public TMessage Deserialize(ReadOnlySpan<byte> data, bool isNull, SerializationContext context)
    {
        if (isNull)
        {
            throw new JsonException($"The message value is null (a tombstone); it cannot be read as {typeof(TMessage).Name}.");
        }

        return JsonSerializer.Deserialize<TMessage>(data, options)
            ?? throw new JsonException($"The message value is JSON null; it cannot be read as {typeof(TMessage).Name}.");
    }
}
