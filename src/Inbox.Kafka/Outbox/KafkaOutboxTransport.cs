using System.Text;
using Confluent.Kafka;
using Inbox.Kafka.Telemetry;
using Microsoft.Extensions.Logging;

namespace Inbox.Kafka.Outbox;

/// <summary>
/// Sends outbox rows to Kafka with an idempotent producer (<c>acks=all</c>): every record of a dispatch is handed to
/// librdkafka at once (which keeps their order per partition), then each delivery report is awaited. The message ID
/// travels in the <c>message-id</c> header, which the Kafka inbox reads; the writer's trace context in <c>traceparent</c>.
/// </summary>
internal sealed class KafkaOutboxTransport : IOutboxTransport, IDisposable
{
    public const string Name = "kafka";
    public const string MessageIdHeader = "message-id";

    // Refusals of the record itself: counted towards OutboxOptions.MaxAttempts. Anything else (timeouts, brokers down,
    // leadership changes) is an outage: retried later without counting.
    private static readonly HashSet<ErrorCode> Refusals =
    [
        ErrorCode.MsgSizeTooLarge, ErrorCode.InvalidMsg, ErrorCode.InvalidMsgSize,
        ErrorCode.RecordListTooLarge, ErrorCode.InvalidRecord, ErrorCode.TopicException, ErrorCode.Local_UnknownTopic,
        ErrorCode.UnknownTopicOrPart, ErrorCode.TopicAuthorizationFailed, ErrorCode.ClusterAuthorizationFailed,
        ErrorCode.Local_InvalidArg, ErrorCode.PolicyViolation, ErrorCode.InvalidRequiredAcks, ErrorCode.UnsupportedForMessageFormat,
    ];

    // How long a dispatch waits for room in librdkafka's full queue before it tries again, when none of its own records
    // is under way to wait for.
    private static readonly TimeSpan QueueFullWait = TimeSpan.FromMilliseconds(20);

    private readonly IProducer<string?, byte[]> _producer;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private int _disposed;

    public KafkaOutboxTransport(ProducerConfig config, TimeProvider time, ILogger logger)
    {
        _logger = logger;
        _time = time;
        var producer = new ProducerConfig(config.ToDictionary(static c => c.Key, static c => c.Value))
        {
            Acks = Acks.All,
            EnableIdempotence = true,
        };

        // An outage shows within this long, not librdkafka's default five minutes, so the dispatcher can back off.
        producer.MessageTimeoutMs ??= 30_000;
        _producer = new ProducerBuilder<string?, byte[]>(producer)
            .SetLogHandler((_, message) => Log.Librdkafka(_logger, message.Level <= SyslogLevel.Error ? LogLevel.Warning : LogLevel.Debug, "outbox", message.Facility, message.Message))
            .SetErrorHandler((_, error) => Log.KafkaError(_logger, error.IsFatal ? LogLevel.Critical : LogLevel.Debug, "outbox", error.Code.ToString(), error.Reason))
            .Build();
    }

    public async Task<IReadOnlyList<OutboxDelivery>> SendAsync(IReadOnlyList<OutboxEnvelope> messages, CancellationToken cancellationToken)
    {
        var deliveries = new Task<OutboxDelivery>[messages.Count];
        var oldest = 0;
        for (var i = 0; i < messages.Count; i++)
        {
            var message = Message(messages[i]);
            while (!TryProduce(messages[i].Destination, message, cancellationToken, out deliveries[i]))
            {
                // librdkafka's queue is full. Its delivery reports are served by Confluent's background thread (the
                // producer is built with it, so Poll may not be called here): wait for the oldest record of this
                // dispatch still under way to be acknowledged, which makes room, or a moment when none is.
                while (oldest < i && deliveries[oldest].IsCompleted)
                {
                    oldest++;
                }

                var room = oldest < i ? deliveries[oldest] : Task.CompletedTask;
                await Task.WhenAny(room, Task.Delay(QueueFullWait, _time, cancellationToken)).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
            }
        }

        return await Task.WhenAll(deliveries).ConfigureAwait(false);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _producer.Flush(TimeSpan.FromSeconds(10));
            _producer.Dispose();
        }
    }

    private static Message<string?, byte[]> Message(OutboxEnvelope envelope)
    {
        var headers = new Headers { { MessageIdHeader, Encoding.UTF8.GetBytes(envelope.MessageId) } };
        if (envelope.TraceParent is { } traceParent)
        {
            headers.Add("traceparent", Encoding.UTF8.GetBytes(traceParent));
        }

        if (envelope.ContentType is { } contentType)
        {
            headers.Add("content-type", Encoding.UTF8.GetBytes(contentType));
        }

        foreach (var (name, value) in envelope.Headers)
        {
            headers.Add(name, Encoding.UTF8.GetBytes(value));
        }

        return new Message<string?, byte[]> { Key = envelope.PartitionKey, Value = envelope.Body.ToArray(), Headers = headers };
    }

    /// <summary>Hands a record to librdkafka; false when its queue is full (nothing was handed then).</summary>
    private bool TryProduce(string topic, Message<string?, byte[]> message, CancellationToken cancellationToken, out Task<OutboxDelivery> delivery)
    {
        var delivered = new TaskCompletionSource<OutboxDelivery>(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            _producer.Produce(topic, message, report => delivered.TrySetResult(Delivery(report.Error)));
            delivery = delivered.Task.WaitAsync(cancellationToken);
            return true;
        }
        catch (ProduceException<string?, byte[]> exception) when (exception.Error.Code == ErrorCode.Local_QueueFull)
        {
            delivery = delivered.Task;
            return false;
        }
        catch (ProduceException<string?, byte[]> exception)
        {
            delivery = Task.FromResult(Delivery(exception.Error));
            return true;
        }
    }

    private static OutboxDelivery Delivery(Error error)
        => !error.IsError ? OutboxDelivery.Sent
            : Refusals.Contains(error.Code) ? OutboxDelivery.Refused($"{error.Code}: {error.Reason}")
            : OutboxDelivery.Unavailable($"{error.Code}: {error.Reason}");
}
