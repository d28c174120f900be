using System.Text.Json;
using Confluent.Kafka;
using Inbox.Kafka.Outbox;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Inbox.Kafka;

/// <summary>Kafka for the transactional outbox: the transport and the typed <c>Produce</c>.</summary>
public static class KafkaOutboxExtensions
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Sends the outbox's Kafka records with an idempotent producer (<c>acks=all</c>, idempotence on, whatever
    /// <paramref name="config"/> says; <c>message.timeout.ms</c> 30 s unless set). Each record carries its message ID in
    /// the <c>message-id</c> header, which an Inbox Kafka consumer reads.
    /// </summary>
    /// <param name="options">The outbox options of <c>services.AddOutbox&lt;TDbContext&gt;(o =&gt; ...)</c>.</param>
    /// <param name="config">Confluent's producer configuration: at least <c>BootstrapServers</c>.</param>
    /// <returns>The same options.</returns>
    public static OutboxOptions UseKafka(this OutboxOptions options, ProducerConfig config)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(config);
        if (string.IsNullOrWhiteSpace(config.BootstrapServers))
        {
            throw new ArgumentException("The outbox's Kafka producer needs BootstrapServers: o.UseKafka(new ProducerConfig { BootstrapServers = \"...\" }).", nameof(config));
        }

        return options.AddTransport(
            KafkaOutboxTransport.Name,
            services => new KafkaOutboxTransport(
                config, services.GetService<TimeProvider>() ?? TimeProvider.System, services.GetRequiredService<ILoggerFactory>().CreateLogger("Inbox.Kafka.Outbox")));
    }

    /// <summary>
    /// Writes a Kafka record to the outbox: <paramref name="value"/> as JSON (web defaults), sent to
    /// <paramref name="topic"/> with <paramref name="key"/> once the DbContext's transaction commits. Records with the
    /// same topic and key are sent in commit order.
    /// </summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="outbox">The DbContext's outbox: <c>db.Outbox()</c>, or a Kafka handler's <c>context.Outbox</c>.</param>
    /// <param name="topic">The topic.</param>
    /// <param name="key">The record key, or <see langword="null"/>.</param>
    /// <param name="value">The value.</param>
    /// <param name="headers">Headers to send with it.</param>
    /// <returns>The message ID, sent in the <c>message-id</c> header.</returns>
    /// <exception cref="InvalidOutboxMessageException">The topic is not a valid Kafka topic name, or a header cannot be carried.</exception>
    public static string Produce<T>(this OutboxWriter outbox, string topic, string? key, T value, IReadOnlyDictionary<string, string>? headers = null)
    {
        ArgumentNullException.ThrowIfNull(outbox);
        return outbox.ProduceBytes(topic, key, JsonSerializer.SerializeToUtf8Bytes(value, Web), headers, "application/json");
    }

    /// <summary>Writes a Kafka record whose value is already serialized; see <see cref="Produce{T}"/>.</summary>
    /// <param name="outbox">The DbContext's outbox.</param>
    /// <param name="topic">The topic.</param>
    /// <param name="key">The record key, or <see langword="null"/>.</param>
    /// <param name="value">The serialized value.</param>
    /// <param name="headers">Headers to send with it.</param>
    /// <param name="contentType">Sent in a <c>content-type</c> header when given.</param>
    /// <returns>The message ID.</returns>
    /// <exception cref="InvalidOutboxMessageException">The topic is not a valid Kafka topic name, or a header cannot be carried.</exception>
    public static string ProduceBytes(this OutboxWriter outbox, string topic, string? key, byte[] value, IReadOnlyDictionary<string, string>? headers = null, string? contentType = null)
    {
        ArgumentNullException.ThrowIfNull(outbox);
        ArgumentNullException.ThrowIfNull(value);
        ValidateTopic(topic);
        return outbox.Add(new OutboxMessage(KafkaOutboxTransport.Name, topic, value) { PartitionKey = key, Headers = headers, ContentType = contentType });
    }

    // Kafka's own rule for topic names: 1 to 249 of [a-zA-Z0-9._-]. Checked here so that a bad name fails the write, not the send.
    private static void ValidateTopic(string? topic)
    {
        if (string.IsNullOrEmpty(topic) || topic.Length > 249 || topic is "." or ".." ||
            topic.AsSpan().IndexOfAnyExcept("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") >= 0)
        {
            throw new InvalidOutboxMessageException(
                $"'{topic}' is not a Kafka topic name: give 1 to 249 characters of letters, digits, '.', '_' and '-'.", nameof(topic));
        }
    }
}
