using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Inbox.Kafka.Consuming;

namespace Inbox.Kafka.DeadLettering;

/// <summary>
/// Produces a record that cannot be processed to its dead-letter topic: the original key, value and headers, plus
/// <see cref="InboxKafkaDeadLetterHeaders"/>. The caller stores the record's offset only after the broker acknowledged.
/// </summary>
internal sealed class DeadLetterProducer : IDisposable
{
    private readonly Lazy<IProducer<byte[]?, byte[]?>> _producer;
    private readonly Func<string, string> _topicFor;
    private readonly string _consumer;

    public DeadLetterProducer(ProducerConfig config, Func<string, string>? topicFor, string consumer)
    {
        _producer = new(() => new ProducerBuilder<byte[]?, byte[]?>(config).Build());
        _topicFor = topicFor ?? (static topic => topic + ".dlt");
        _consumer = consumer;
    }

    /// <summary>The producer configuration when none is given: the consumer's cluster and credentials, durable writes.</summary>
    public static ProducerConfig ConfigFrom(ConsumerConfig consumer)
    {
        var config = new ProducerConfig();
        foreach (var (key, value) in consumer)
        {
            if (key is "bootstrap.servers" or "client.id" || key.StartsWith("security.", StringComparison.Ordinal) ||
                key.StartsWith("sasl.", StringComparison.Ordinal) || key.StartsWith("ssl.", StringComparison.Ordinal))
            {
                config.Set(key, value);
            }
        }

        config.Acks = Acks.All;
        config.EnableIdempotence = true;
        return config;
    }

    public Task ProduceAsync<TMessage>(KafkaEnvelope<TMessage> envelope, CancellationToken cancellationToken)
    {
        var record = envelope.Record;
        var headers = new Headers();
        foreach (var header in record.Message.Headers ?? [])
        {
            headers.Add(header.Key, header.GetValueBytes());
        }

        Add(headers, InboxKafkaDeadLetterHeaders.Reason, envelope.DeadLetterReason);
        Add(headers, InboxKafkaDeadLetterHeaders.ExceptionType, envelope.Error?.GetType().FullName);
        Add(headers, InboxKafkaDeadLetterHeaders.ExceptionMessage, envelope.Error?.Message);
        Add(headers, InboxKafkaDeadLetterHeaders.OriginalTopic, record.Topic);
        Add(headers, InboxKafkaDeadLetterHeaders.OriginalPartition, record.Partition.Value.ToString(CultureInfo.InvariantCulture));
        Add(headers, InboxKafkaDeadLetterHeaders.OriginalOffset, record.Offset.Value.ToString(CultureInfo.InvariantCulture));
        Add(headers, InboxKafkaDeadLetterHeaders.Consumer, _consumer);
        Add(headers, InboxKafkaDeadLetterHeaders.MessageId, envelope.Context?.MessageId);

        var message = new Message<byte[]?, byte[]?> { Key = record.Message.Key, Value = record.Message.Value, Headers = headers };
        return _producer.Value.ProduceAsync(TopicFor(record.Topic), message, cancellationToken);
    }

    public string TopicFor(string topic) => _topicFor(topic);

    public void Dispose()
    {
        if (_producer.IsValueCreated)
        {
            _producer.Value.Flush(TimeSpan.FromSeconds(5));
            _producer.Value.Dispose();
        }
    }

    private static void Add(Headers headers, string key, string? value)
    {
        if (value is not null)
        {
            headers.Add(key, Encoding.UTF8.GetBytes(value));
        }
    }
}
