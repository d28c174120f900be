using System.Security.Cryptography;

namespace Inbox;

/// <summary>
/// Describes one message to the inbox: its ID and, optionally, a fingerprint of its content (to detect an
/// ID reused for other content) and the time it was sent (for the late-arrival policy).
/// </summary>
public readonly struct InboxMessage
{
    /// <summary>Creates a description of a message.</summary>
    /// <param name="messageId">The broker's or producer's message ID.</param>
    /// <param name="fingerprint">
    /// An optional hash of the payload, e.g. from <see cref="ComputeFingerprint(ReadOnlySpan{byte})"/>. When set,
    /// a second message with the same ID and another fingerprint yields <see cref="InboxOutcome.Conflict"/>.
    /// </param>
    /// <param name="sentTime">When the message was sent, if the transport knows; see <see cref="InboxOptions.LateMessagePolicy"/>.</param>
    public InboxMessage(string messageId, byte[]? fingerprint = null, DateTimeOffset? sentTime = null)
    {
        MessageId = messageId;
        Fingerprint = fingerprint;
        SentTime = sentTime;
    }

    /// <summary>Gets the message ID.</summary>
    public string MessageId { get; }

    /// <summary>Gets the fingerprint of the payload, or <see langword="null"/> when conflict detection is not wanted.</summary>
    public byte[]? Fingerprint { get; }

    /// <summary>Gets when the message was sent, or <see langword="null"/> when unknown.</summary>
    public DateTimeOffset? SentTime { get; }

    /// <summary>
    /// Gets whether the transport says it delivered this message before (RabbitMQ's redelivered flag): then it is
    /// likely a duplicate. Only <see cref="InboxLookup.WhenRedelivered"/> reads it.
    /// </summary>
    public bool Redelivered { get; init; }

    /// <summary>
    /// Gets whether the inbox writes no record for this message and takes it as new: the caller proves it processed by
    /// other means written in the same transaction, and looks after duplicates itself, in the handler (the Kafka
    /// consumer's database offsets, for records identified by their offset).
    /// </summary>
    internal bool Unrecorded { get; init; }

    /// <summary>
    /// Gets whether the handler runs statements of its own besides its tracked changes (the Kafka consumer's offset
    /// row), so that its unit needs an explicit transaction: <see cref="InboxOptions.OneRoundTrip"/> does not apply.
    /// </summary>
    internal bool NeedsTransaction { get; init; }

    /// <summary>Whether the message was sent longer ago than the window (only a sent time the producer gave counts).</summary>
    internal bool IsLate(DateTimeOffset now, TimeSpan window) => SentTime is { } sent && now - sent > window;

    /// <summary>Computes a fingerprint of a payload: its SHA-256 hash (32 bytes).</summary>
    /// <param name="payload">The message body as received.</param>
    /// <returns>The hash.</returns>
    public static byte[] ComputeFingerprint(ReadOnlySpan<byte> payload) => SHA256.HashData(payload);
}
