using System.ComponentModel;
using System.Text.Json;
using Confluent.Kafka;

namespace Inbox.Kafka;

/// <summary>One Kafka subscription processed through the inbox. Validated when the host starts.</summary>
/// <typeparam name="TMessage">The deserialized message type.</typeparam>
public sealed class InboxKafkaConsumerOptions<TMessage>
{
    /// <summary>Gets or sets the topics to subscribe to.</summary>
    /// <value>Empty; at least one is required.</value>
    public IList<string> Topics { get; set; } = [];

    /// <summary>
    /// Gets or sets Confluent's consumer configuration. <see cref="ClientConfig.BootstrapServers"/> and
    /// <see cref="ConsumerConfig.GroupId"/> are required. <see cref="ConsumerConfig.EnableAutoOffsetStore"/> is
    /// always set to <see langword="false"/>: an offset is stored only after its database commit. With
    /// <see cref="ConsumerConfig.EnableAutoCommit"/> (the default) librdkafka commits the stored offsets every
    /// <see cref="ConsumerConfig.AutoCommitIntervalMs"/>; with it off, the consumer commits them itself at that interval.
    /// </summary>
    /// <value>An empty configuration; set at least the bootstrap servers and the group ID.</value>
    public ConsumerConfig Consumer { get; set; } = new();

    /// <summary>
    /// Gets or sets Confluent's producer configuration for the dead-letter topic. When <see langword="null"/>, a
    /// producer is configured from <see cref="Consumer"/>'s bootstrap servers and its <c>security.*</c>,
    /// <c>sasl.*</c> and <c>ssl.*</c> settings, with <c>acks=all</c> and idempotence on.
    /// </summary>
    /// <value><see langword="null"/>.</value>
    public ProducerConfig? Producer { get; set; }

    /// <summary>
    /// Gets or sets the consumer key: the name the inbox records this subscription's message IDs under (the
    /// <c>consumer</c> column), as <c>InboxConsumeOptions.ConsumerKey</c> forms it for a MassTransit consumer.
    /// </summary>
    /// <value><see langword="null"/>: the consumer group ID.</value>
    public string? ConsumerKey { get; set; }

    /// <summary>Gets or sets the consumer key under its former name: use <see cref="ConsumerKey"/>.</summary>
    [Obsolete("Use ConsumerKey, the name of the inbox's consumer key in every Inbox package.")]
    [EditorBrowsable(EditorBrowsableState.Never)]
    public string? ConsumerName
    {
        get => ConsumerKey;
        set => ConsumerKey = value;
    }

    /// <summary>Gets or sets how many messages of one partition are processed in one transaction at most.</summary>
    /// <value>100. Between 1 and 10,000.</value>
    public int BatchSize { get; set; } = 100;

    /// <summary>Gets or sets how many partitions' batches run at the same time at most.</summary>
    /// <value><see cref="Environment.ProcessorCount"/>. At least 1.</value>
    public int MaxConcurrentBatches { get; set; } = Environment.ProcessorCount;

    /// <summary>
    /// Gets or sets how many records one partition may hold in memory, waiting for its worker, before the partition is
    /// paused; it is resumed when half of them are processed. Higher keeps workers busy (librdkafka refetches a
    /// paused partition's prefetched records on resume, and that pause costs throughput); lower bounds memory:
    /// about this many records times their size, per assigned partition.
    /// </summary>
    /// <value>10,000. At least twice <see cref="BatchSize"/>.</value>
    public int MaxBufferedPerPartition { get; set; } = 10_000;

    /// <summary>
    /// Gets or sets the headers that carry the message ID, looked up case-insensitively in this order; the first one
    /// present with a non-empty value wins (its last occurrence, if repeated). Values are read as UTF-8.
    /// </summary>
    /// <value><c>ce_id</c> (CloudEvents), <c>MessageId</c> (MassTransit, Brighter), <c>message-id</c>, <c>x-message-id</c>.</value>
    public IList<string> MessageIdHeaders { get; set; } = [.. Inbox.MessageIdHeaders.Defaults];

    /// <summary>Gets or sets a function that reads the message ID from the deserialized message; tried after the headers.</summary>
    /// <value><see langword="null"/>.</value>
    public Func<TMessage, string?>? MessageIdSelector { get; set; }

    /// <summary>
    /// Gets or sets whether a message with no ID in its headers or payload is recorded as <c>topic/partition/offset</c>.
    /// That ID recognises redeliveries of the same record (after a rebalance or a crash), but not a producer that sent
    /// the same message twice: the copies have different offsets. When <see langword="false"/>, such a message goes to
    /// the dead-letter topic.
    /// </summary>
    /// <value><see langword="true"/>.</value>
    public bool UseOffsetAsFallbackId { get; set; } = true;

    /// <summary>
    /// Gets or sets whether the payload's SHA-256 hash is recorded, so that a message ID reused for other content is
    /// detected instead of skipped as a duplicate. <c>InboxOptions.ConflictPolicy</c> says what happens then: by default
    /// the record goes to the dead-letter topic with reason <see cref="InboxKafkaDeadLetterHeaders.ReasonConflict"/>.
    /// </summary>
    /// <value><see langword="false"/>.</value>
    public bool ComputeFingerprints { get; set; }

    /// <summary>Gets or sets the deserializer of message values.</summary>
    /// <value><see langword="null"/>: System.Text.Json with <see cref="JsonSerializerOptions"/>.</value>
    public IDeserializer<TMessage>? Deserializer { get; set; }

    /// <summary>Gets or sets the options of the default System.Text.Json deserializer.</summary>
    /// <value>The web defaults: camel case, case-insensitive property names.</value>
    public JsonSerializerOptions JsonSerializerOptions { get; set; } = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Gets or sets how many more times a message whose handler failed is tried on its own before it is dead-lettered.
    /// </summary>
    /// <value>2. Between 0 and 100.</value>
    public int HandlerRetries { get; set; } = 2;

    /// <summary>
    /// Gets or sets the first delay before a retry; it doubles with every retry of the same failure, up to 30 seconds.
    /// Used for handler retries, dead-letter produce failures and database outages alike.
    /// </summary>
    /// <value>1 second. Between 0 and 1 minute.</value>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets the dead-letter topic for a source topic.</summary>
    /// <value><see langword="null"/>: the source topic followed by <c>.dlt</c>.</value>
    public Func<string, string>? DeadLetterTopic { get; set; }

    /// <summary>
    /// Gets or sets whether each partition's next offset is written in the same transaction as the inbox records and
    /// sought when the partition is assigned, so that a Kafka commit that never happened costs no redelivery. Records known
    /// by their offset (see <see cref="UseOffsetAsFallbackId"/>) then write no inbox record: the offset row proves them.
    /// Needs <c>modelBuilder.AddInboxKafkaOffsets()</c> in the DbContext's model.
    /// </summary>
    /// <value><see langword="false"/>.</value>
    public bool StoreOffsetsInDatabase { get; set; }

    /// <summary>
    /// Gets or sets how long partitions being revoked (or the consumer stopping) wait for their in-flight batches to
    /// finish before the work is abandoned uncommitted. Keep it below <c>max.poll.interval.ms</c>.
    /// </summary>
    /// <value>30 seconds. Positive.</value>
    public TimeSpan RevocationTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
