using Inbox.Kafka.Consuming;

namespace Inbox.Kafka.Offsets;

/// <summary>What a batch's transaction found settled before it: records below an offset, and recorded IDs past it.</summary>
internal sealed record OffsetProof(long UpTo, HashSet<string> Recorded)
{
    /// <summary>Nothing proved: every record is handled.</summary>
    public static readonly OffsetProof None = new(-1, []);

    public bool Covers<TMessage>(KafkaEnvelope<TMessage> envelope)
        => envelope.Description.Unrecorded && (envelope.Record.Offset.Value < UpTo || Recorded.Contains(envelope.Description.MessageId));
}
