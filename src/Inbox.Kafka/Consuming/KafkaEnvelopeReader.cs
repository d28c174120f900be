using System.Text;
using Confluent.Kafka;

namespace Inbox.Kafka.Consuming;

/// <summary>
/// Turns a record into an envelope: deserializes its value and finds its message ID, from the headers in the
/// configured order, then the selector, then <c>topic/partition/offset</c> unless that fallback is off.
/// A record that fails either step is marked for the dead-letter topic.
/// </summary>
internal sealed class KafkaEnvelopeReader<TMessage>(InboxKafkaConsumerOptions<TMessage> options, string consumer)
{
    private readonly IDeserializer<TMessage> _deserializer = options.Deserializer ?? new JsonMessageDeserializer<TMessage>(options.JsonSerializerOptions);
    private readonly string[] _idHeaders = [.. options.MessageIdHeaders];

    public KafkaEnvelope<TMessage> Read(ConsumeResult<byte[]?, byte[]?> record)
    {
        var envelope = new KafkaEnvelope<TMessage>(record);
        try
        {
            var value = record.Message.Value;
            var context = new SerializationContext(MessageComponentType.Value, record.Topic, record.Message.Headers);
            envelope.Message = _deserializer.Deserialize(value, value is null, context);
        }
        catch (Exception exception)
        {
            envelope.DeadLetter(InboxKafkaDeadLetterHeaders.ReasonDeserializationFailed, exception);
            return envelope;
        }

        string? id;
        var byOffset = false;
        try
        {
            id = FromHeaders(record.Message.Headers) ?? (options.MessageIdSelector is { } selector ? selector(envelope.Message) : null);
        }
        catch (Exception exception)
        {
            envelope.DeadLetter(InboxKafkaDeadLetterHeaders.ReasonMissingMessageId, exception);
            return envelope;
        }

        if (string.IsNullOrEmpty(id))
        {
            if (!options.UseOffsetAsFallbackId)
            {
                envelope.DeadLetter(
                    InboxKafkaDeadLetterHeaders.ReasonMissingMessageId,
                    new InvalidInboxInputException(
                        $"The message at {record.TopicPartitionOffset} has no message ID: none of the headers [{string.Join(", ", _idHeaders)}] is set" +
                        (options.MessageIdSelector is null ? "" : " and the MessageIdSelector returned none") +
                        ", and UseOffsetAsFallbackId is off."));
                return envelope;
            }

            id = $"{record.Topic}/{record.Partition.Value}/{record.Offset.Value}";
            byOffset = true;
        }

        var fingerprint = options.ComputeFingerprints ? InboxMessage.ComputeFingerprint(record.Message.Value) : null;
        var timestamp = record.Message.Timestamp;
        DateTimeOffset? sent = timestamp.Type == TimestampType.CreateTime ? timestamp.UtcDateTime : null;

        // With database offsets, a record known by its offset needs no inbox record: the offset row proves it, and that
        // proof does not expire with the deduplication window, so the record is never late either. The batch's handler
        // then writes the offset row itself, in the unit's transaction.
        var unrecorded = byOffset && options.StoreOffsetsInDatabase;
        envelope.Description = new InboxMessage(id, fingerprint, unrecorded ? null : sent)
        {
            Unrecorded = unrecorded,
            NeedsTransaction = options.StoreOffsetsInDatabase,
        };
        envelope.Context = new InboxMessageContext(consumer, id, record);
        return envelope;
    }

    private string? FromHeaders(Headers? headers)
    {
        if (headers is null || headers.Count == 0)
        {
            return null;
        }

        foreach (var name in _idHeaders)
        {
            string? found = null;
            foreach (var header in headers)
            {
                if (string.Equals(header.Key, name, StringComparison.OrdinalIgnoreCase) && header.GetValueBytes() is { Length: > 0 } bytes)
                {
                    found = Encoding.UTF8.GetString(bytes);
                }
            }

            if (found is not null)
            {
                return found;
            }
        }

        return null;
    }
}
