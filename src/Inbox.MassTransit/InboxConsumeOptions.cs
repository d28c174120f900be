namespace Inbox.MassTransit;

/// <summary>Options of the MassTransit inbox filter, given to <c>cfg.UseInbox(context, o =&gt; ...)</c>.</summary>
public sealed class InboxConsumeOptions
{
    /// <summary>
    /// Gets or sets whether each message's content is fingerprinted, so that a message ID reused for other content
    /// is detected. What happens to such a message is <c>InboxOptions.ConflictPolicy</c>'s to say: by default it goes
    /// to the error queue. The fingerprint is the SHA-256 of the message serialized as JSON, so envelope fields that
    /// change on a resend (sent time, headers) do not count.
    /// </summary>
    /// <value><see langword="false"/>: a message whose ID was processed is skipped whatever its content.</value>
    public bool ComputeFingerprints { get; set; }

    /// <summary>
    /// Gets or sets how the consumer key recorded with each message ID is formed from the receive endpoint's name
    /// (its queue) and the consumer type. Message IDs are deduplicated per key, so the key must be stable across
    /// restarts and deployments: changing it makes every remembered ID unknown.
    /// </summary>
    /// <value>
    /// <see langword="null"/>: <c>"{endpoint name}/{consumer type}"</c>, the type as MassTransit names it
    /// (namespace-qualified, no assembly version), e.g. <c>"order-placed/Shop.OrderPlacedConsumer"</c>.
    /// </value>
    public Func<string, Type, string>? ConsumerKey { get; set; }

    /// <summary>
    /// Gets or sets the headers that carry the message ID for producers outside MassTransit, looked up in this order
    /// (message headers, then transport headers; exact name first, then ignoring case). The first one present with a
    /// non-empty value wins; any string is an ID (<c>order-123</c> as well as a GUID), up to
    /// <c>InboxOptions.MaxIdLength</c> characters.
    /// </summary>
    /// <value>Empty: no header is consulted before <see cref="MessageIdSelector"/> and MassTransit's <c>MessageId</c>.</value>
    public IList<string> MessageIdHeaders { get; set; } = [];

    /// <summary>
    /// Gets or sets a function that reads the message ID from the deserialized message, e.g.
    /// <c>m =&gt; (m as OrderPlaced)?.OrderId</c>; tried after <see cref="MessageIdHeaders"/>. Returning
    /// <see langword="null"/> or an empty string falls through to the next source.
    /// </summary>
    /// <value>
    /// <see langword="null"/>. Without a header or a selector the ID is MassTransit's <c>MessageId</c> and, when that is
    /// not a GUID, the transport's own message ID as sent (RabbitMQ's <c>message_id</c> property).
    /// </value>
    public Func<object, string?>? MessageIdSelector { get; set; }
}
