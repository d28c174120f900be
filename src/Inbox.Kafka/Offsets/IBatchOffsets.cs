using Confluent.Kafka;
using Inbox.Kafka.Consuming;
using Microsoft.EntityFrameworkCore;

namespace Inbox.Kafka.Offsets;

/// <summary>
/// What a batch does about offsets besides Kafka's commit: with database offsets (<see cref="DatabaseBatchOffsets"/>),
/// it proves in its transaction what an earlier transaction settled, writes the offset up to what it settles, and writes
/// the offset past the batch afterwards if its transaction could not. Kafka's own committed offsets need none of that
/// (<see cref="BrokerOffsets"/>): the caller stores the offset once the batch is done.
/// </summary>
internal interface IBatchOffsets
{
    /// <summary>
    /// In the batch's transaction, before any handler runs: what was settled before it among <paramref name="fresh"/>,
    /// the messages the inbox found new. The handler is not called for those.
    /// </summary>
    Task<OffsetProof> ProveAsync<TMessage>(
        DbContext db, TopicPartition partition, long batchStart, IReadOnlyList<KafkaEnvelope<TMessage>> fresh, CancellationToken cancellationToken);

    /// <summary>
    /// In the batch's transaction, after the handlers: writes what that transaction settles of <paramref name="ready"/>
    /// (the records of the batch that were read) and returns the offset it wrote, or -1 for none.
    /// </summary>
    Task<long> SettleAsync<TMessage>(
        DbContext db,
        TopicPartition partition,
        IReadOnlyList<KafkaEnvelope<TMessage>> ready,
        IReadOnlyList<KafkaEnvelope<TMessage>> fresh,
        long nextOffset,
        OffsetProof proof,
        CancellationToken cancellationToken);

    /// <summary>
    /// After the batch (its transaction, retries and dead letters): whether <paramref name="nextOffset"/>, past the batch,
    /// must still be written with <see cref="WriteAfterAsync"/>, the batch's transaction having written only
    /// <paramref name="written"/> (-1 for none).
    /// </summary>
    bool MustWriteAfter(long written, long nextOffset);

    /// <summary>Writes <paramref name="nextOffset"/>, past the batch, on its own; returns the offset it wrote.</summary>
    Task<long> WriteAfterAsync(DbContext db, TopicPartition partition, long nextOffset, CancellationToken cancellationToken);

    /// <summary>
    /// In the unit of work of one message run on its own, which writes no offset, after its handler: records the message
    /// if no offset would prove it otherwise (an unrecorded one).
    /// </summary>
    Task RecordAloneAsync<TMessage>(DbContext db, KafkaEnvelope<TMessage> envelope, CancellationToken cancellationToken);
}
