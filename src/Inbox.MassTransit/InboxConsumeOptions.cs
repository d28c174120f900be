namespace Inbox.MassTransit;

/// <summary>Options of the MassTransit inbox filter, given to <c>cfg.UseInbox(context, o =&gt; ...)</c>.</summary>
public sealed class InboxConsumeOptions
{
    /// <summary>
    /// Gets or sets whether each message's content is fingerprinted, so that a message ID reused for other content
    /// is detected (<see cref="InboxOutcome.Conflict"/>) and sent to the error queue instead of being skipped.
    /// The fingerprint is the SHA-256 of the message serialized as JSON, so envelope fields that change on a
    /// resend (sent time, headers) do not count.
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
}
