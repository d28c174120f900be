using System.Text.Json;
using RabbitMQ.Client;

namespace Inbox.RabbitMQ;

/// <summary>
/// Options of one RabbitMQ consumer processed through the inbox, given to
/// <c>services.AddInboxRabbitMqConsumer&lt;TDbContext, TMessage, THandler&gt;(o =&gt; ...)</c> or bound from configuration.
/// </summary>
/// <typeparam name="TMessage">The deserialized message type.</typeparam>
public sealed class InboxRabbitMqConsumerOptions<TMessage>
{
    /// <summary>
    /// Gets or sets how to connect: RabbitMQ.Client's factory, with its automatic recovery (on by default), so that a
    /// broker restart costs only the deliveries not yet acknowledged, which the broker redelivers and the inbox recognises.
    /// Bound from configuration under <c>"Connection"</c> (<c>"Uri"</c>, or <c>"HostName"</c>, <c>"UserName"</c>, ...).
    /// </summary>
    /// <value>A factory for <c>amqp://guest:guest@localhost:5672/</c>.</value>
    public ConnectionFactory Connection { get; set; } = new();

    /// <summary>Gets or sets the queue to consume. Required.</summary>
    public string Queue { get; set; } = "";

    /// <summary>
    /// Gets or sets the inbox consumer key the message IDs are recorded under. IDs are deduplicated per key, so it must be
    /// stable across restarts and deployments, and differ between consumers that must each process the same message.
    /// </summary>
    /// <value><see langword="null"/>: the queue's name.</value>
    public string? ConsumerKey { get; set; }

    /// <summary>Gets or sets how many unacknowledged deliveries the broker sends ahead (AMQP prefetch count).</summary>
    /// <value>32.</value>
    public ushort PrefetchCount { get; set; } = 32;

    /// <summary>
    /// Gets or sets how many deliveries are processed at once, each in a unit of work of its own (in batch mode, how many
    /// batches). 1 processes them one at a time in queue order; for strict order across instances, also set
    /// <see cref="SingleActiveConsumer"/>.
    /// </summary>
    /// <value>8.</value>
    public int MaxConcurrency { get; set; } = 8;

    /// <summary>
    /// Gets or sets how many deliveries at most are processed in one unit of work. Above 1 the consumer works in batches:
    /// the deliveries that have arrived (up to this many, without waiting for more) are recorded with one statement,
    /// handled one by one in one transaction, committed once, and acknowledged with one multiple-ack after the commit (and
    /// after every earlier batch). Up to <see cref="MaxConcurrency"/> batches run at once (2 suits most databases; 1 keeps
    /// queue order); <see cref="PrefetchCount"/> must be at least this size, and (<see cref="MaxConcurrency"/> + 1) times
    /// it keeps every batch full. A handler that fails in a batch rolls it back; the batch is then run one message at a
    /// time, so a poison message costs only itself.
    /// </summary>
    /// <value>1: one delivery per unit of work.</value>
    public int BatchSize { get; set; } = 1;

    /// <summary>Gets or sets whether the queue (durable) and the dead-letter queue are declared at start-up.</summary>
    /// <value><see langword="true"/>.</value>
    public bool DeclareQueue { get; set; } = true;

    /// <summary>Gets or sets the queue type declared: <c>"classic"</c>, <c>"quorum"</c>, or null for the broker's default.</summary>
    /// <value><see langword="null"/>.</value>
    public string? QueueType { get; set; }

    /// <summary>
    /// Gets or sets whether the queue is declared with <c>x-single-active-consumer</c>: one consumer of all instances gets
    /// the deliveries, the others stand by; with <see cref="MaxConcurrency"/> 1 the queue is processed strictly in order.
    /// </summary>
    /// <value><see langword="false"/>.</value>
    public bool SingleActiveConsumer { get; set; }

    /// <summary>Gets or sets an exchange to bind the queue to, with <see cref="RoutingKey"/>; null binds nothing.</summary>
    /// <value><see langword="null"/>.</value>
    public string? Exchange { get; set; }

    /// <summary>Gets or sets the routing key of the binding to <see cref="Exchange"/>.</summary>
    /// <value>Empty.</value>
    public string RoutingKey { get; set; } = "";

    /// <summary>
    /// Gets or sets the queue that receives what cannot be processed: bad input at once, a failing handler after
    /// <see cref="HandlerRetries"/>. Never a message whose database was down.
    /// </summary>
    /// <value><see langword="null"/>: <c>"{Queue}.dead-letter"</c>.</value>
    public string? DeadLetterQueue { get; set; }

    /// <summary>
    /// Gets or sets the headers that carry the message ID when the AMQP <c>message_id</c> property is not set, looked up
    /// in this order (exact name first, then ignoring case). A list given in configuration replaces this one.
    /// </summary>
    /// <value><c>ce_id</c> (CloudEvents), <c>MessageId</c>, <c>message-id</c>, <c>x-message-id</c>.</value>
    public IList<string> MessageIdHeaders { get; set; } = [.. Inbox.MessageIdHeaders.Defaults];

    /// <summary>
    /// Gets or sets a function that reads the message ID from the deserialized message, tried last. Returning null or an
    /// empty string means none: the message goes to the dead-letter queue as <c>missing-message-id</c>.
    /// </summary>
    /// <value><see langword="null"/>.</value>
    public Func<TMessage, string?>? MessageIdSelector { get; set; }

    /// <summary>
    /// Gets or sets whether each message's body is fingerprinted (SHA-256), so that a message ID reused for other content
    /// is detected; <c>InboxOptions.ConflictPolicy</c> says what happens to it (by default the dead-letter queue).
    /// </summary>
    /// <value><see langword="false"/>.</value>
    public bool ComputeFingerprints { get; set; }

    /// <summary>
    /// Gets or sets how a body becomes a message. Called while the delivery is processed: copy what you keep.
    /// </summary>
    /// <value><see langword="null"/>: JSON with <see cref="JsonSerializerOptions"/> (a MassTransit envelope's <c>message</c>).</value>
    public Func<ReadOnlyMemory<byte>, TMessage>? Deserializer { get; set; }

    /// <summary>Gets or sets the JSON options of the default deserializer.</summary>
    /// <value>The web defaults (camelCase, case-insensitive).</value>
    public JsonSerializerOptions JsonSerializerOptions { get; set; } = new(JsonSerializerDefaults.Web);

    /// <summary>Gets or sets how many more times a message whose handler failed is tried, with back-off, before it is dead-lettered.</summary>
    /// <value>2.</value>
    public int HandlerRetries { get; set; } = 2;

    /// <summary>Gets or sets the first back-off of a handler retry or of a dead letter the broker did not confirm; it doubles up to 30 s.</summary>
    /// <value>1 second.</value>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Gets or sets how long a stopping host lets the deliveries in flight finish. What commits is acknowledged; what does not
    /// finish in time is cancelled and left unacknowledged, and the broker delivers it again.
    /// </summary>
    /// <value>30 seconds.</value>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
