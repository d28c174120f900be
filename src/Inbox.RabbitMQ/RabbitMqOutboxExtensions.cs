using System.Text;
using System.Text.Json;
using Inbox.RabbitMQ.Outbox;
using RabbitMQ.Client;

namespace Inbox.RabbitMQ;

/// <summary>RabbitMQ for the transactional outbox: the transport and the typed <c>Send</c> and <c>Publish</c>.</summary>
public static class RabbitMqOutboxExtensions
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Sends the outbox's RabbitMQ messages on a channel with publisher confirms: persistent, <c>mandatory</c>, the row's
    /// stable ID as the AMQP <c>message_id</c>, and a row deleted only once the broker confirmed its message. A message
    /// the broker returns as unroutable or nacks is refused (it counts towards <c>OutboxOptions.MaxAttempts</c>); a
    /// broker that cannot be reached is an outage (the rows wait, nothing counts).
    /// </summary>
    /// <param name="options">The outbox options of <c>services.AddOutbox&lt;TDbContext&gt;(o =&gt; ...)</c>.</param>
    /// <param name="connection">How to connect; RabbitMQ.Client's automatic recovery stays on.</param>
    /// <returns>The same options.</returns>
    public static OutboxOptions UseRabbitMq(this OutboxOptions options, ConnectionFactory connection)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(connection);
        return options.AddTransport(RabbitMqOutboxTransport.Name, _ => new RabbitMqOutboxTransport(connection));
    }

    /// <summary>
    /// Writes a message for a queue to the outbox: <paramref name="value"/> as JSON (web defaults), published to the
    /// default exchange with the queue's name as routing key once the DbContext's transaction commits. Messages for one
    /// queue keep the order they were written in within a transaction and between transactions that do not overlap; see
    /// <paramref name="commitOrder"/> for overlapping ones.
    /// </summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="outbox">The DbContext's outbox: <c>db.Outbox()</c>, or a RabbitMQ handler's <c>context.Outbox</c>.</param>
    /// <param name="queue">The queue.</param>
    /// <param name="value">The value.</param>
    /// <param name="headers">Headers to send with it.</param>
    /// <param name="commitOrder">
    /// Whether messages for the queue leave in commit order even when written by transactions that overlap (concurrent
    /// handlers): such transactions then commit one at a time (on PostgreSQL), which costs throughput.
    /// </param>
    /// <returns>The message ID, sent as the AMQP <c>message_id</c>.</returns>
    /// <exception cref="InvalidOutboxMessageException">The queue name is empty or too long, or a header cannot be carried.</exception>
    public static string Send<T>(this OutboxWriter outbox, string queue, T value, IReadOnlyDictionary<string, string>? headers = null, bool commitOrder = false)
        => outbox.PublishBytes("", queue, JsonSerializer.SerializeToUtf8Bytes(value, Web), headers, "application/json", commitOrder);

    /// <summary>
    /// Writes a message for an exchange to the outbox: <paramref name="value"/> as JSON (web defaults), published with
    /// <paramref name="routingKey"/> once the DbContext's transaction commits. Messages with the same exchange and routing
    /// key keep the order they were written in within a transaction and between transactions that do not overlap; see
    /// <paramref name="commitOrder"/> for overlapping ones.
    /// </summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="outbox">The DbContext's outbox.</param>
    /// <param name="exchange">The exchange; empty for the default exchange.</param>
    /// <param name="routingKey">The routing key.</param>
    /// <param name="value">The value.</param>
    /// <param name="headers">Headers to send with it.</param>
    /// <param name="commitOrder">
    /// Whether messages with this exchange and routing key leave in commit order even when written by transactions that
    /// overlap (concurrent handlers): such transactions then commit one at a time (on PostgreSQL), which costs throughput.
    /// </param>
    /// <returns>The message ID, sent as the AMQP <c>message_id</c>.</returns>
    /// <exception cref="InvalidOutboxMessageException">A name is too long, or a header cannot be carried.</exception>
    public static string Publish<T>(this OutboxWriter outbox, string exchange, string routingKey, T value, IReadOnlyDictionary<string, string>? headers = null, bool commitOrder = false)
        => outbox.PublishBytes(exchange, routingKey, JsonSerializer.SerializeToUtf8Bytes(value, Web), headers, "application/json", commitOrder);

    /// <summary>Writes a message whose body is already serialized; see <see cref="Publish{T}"/>.</summary>
    /// <param name="outbox">The DbContext's outbox.</param>
    /// <param name="exchange">The exchange; empty for the default exchange.</param>
    /// <param name="routingKey">The routing key (the queue's name on the default exchange).</param>
    /// <param name="body">The serialized body.</param>
    /// <param name="headers">Headers to send with it.</param>
    /// <param name="contentType">The AMQP <c>content_type</c>, when given.</param>
    /// <param name="commitOrder">Whether overlapping transactions keep commit order; see <see cref="Publish{T}"/>.</param>
    /// <returns>The message ID.</returns>
    /// <exception cref="InvalidOutboxMessageException">A name is too long, or a header cannot be carried.</exception>
    public static string PublishBytes(this OutboxWriter outbox, string exchange, string routingKey, byte[] body, IReadOnlyDictionary<string, string>? headers = null, string? contentType = null, bool commitOrder = false)
    {
        ArgumentNullException.ThrowIfNull(outbox);
        ArgumentNullException.ThrowIfNull(exchange);
        ArgumentNullException.ThrowIfNull(routingKey);
        ArgumentNullException.ThrowIfNull(body);
        ShortString(exchange, nameof(exchange));
        ShortString(routingKey, nameof(routingKey));
        if (exchange.Length == 0 && routingKey.Length == 0)
        {
            throw new InvalidOutboxMessageException("A message for the default exchange needs the queue's name as its routing key.", nameof(routingKey));
        }

        var destination = exchange.Length == 0 ? RabbitMqOutboxTransport.DefaultExchange : exchange;
        return outbox.Add(new OutboxMessage(RabbitMqOutboxTransport.Name, destination, body) { PartitionKey = routingKey, CommitOrder = commitOrder, Headers = headers, ContentType = contentType });
    }

    // AMQP's rule for exchange names and routing keys: short strings, at most 255 bytes. Checked here so that a bad name
    // fails the write, not the send.
    private static void ShortString(string value, string name)
    {
        if (Encoding.UTF8.GetByteCount(value) > 255)
        {
            throw new InvalidOutboxMessageException($"The {name} '{value[..Math.Min(value.Length, 40)]}...' is longer than AMQP's 255 bytes.", name);
        }
    }
}
