using Confluent.Kafka;
using Inbox.Kafka.Consuming;
using Inbox.Storage;
using Microsoft.EntityFrameworkCore;

namespace Inbox.Kafka.Offsets;

/// <summary>
/// Offsets a subscription keeps in its own database (<c>StoreOffsetsInDatabase</c>), written in the batch's transaction:
/// the offset up to the first record that transaction does not settle, and the unrecorded messages it processed past
/// that offset; then, if the transaction could not write the offset past the whole batch, that offset after the batch.
/// </summary>
internal sealed class DatabaseBatchOffsets(string consumer, TimeProvider time) : IBatchOffsets
{
    /// <summary>
    /// With database offsets, records known by their offset have no inbox record (<see cref="InboxMessage.Unrecorded"/>):
    /// the partition's offset row proves them instead. When such records are among <paramref name="fresh"/>, locks that
    /// row for the transaction and reads its next offset: the records below it were settled by an earlier transaction (a
    /// former owner of the partition that got there first). Records at or past it were recorded if an earlier transaction
    /// processed them past the offset it could write (see <see cref="RecordBeyondAsync"/>), so those are looked up, after
    /// the lock, so that what the lock waited for is seen.
    /// </summary>
    public async Task<OffsetProof> ProveAsync<TMessage>(
        DbContext db, TopicPartition partition, long batchStart, IReadOnlyList<KafkaEnvelope<TMessage>> fresh, CancellationToken cancellationToken)
    {
        if (!fresh.Any(static e => e.Description.Unrecorded))
        {
            return OffsetProof.None;
        }

        // A missing row is created at the batch's first record, never further: a record of the batch that is still to be
        // retried or dead-lettered must not be covered by it.
        var upTo = await DatabaseOffsets.LockAsync(db, consumer, partition, batchStart, cancellationToken).ConfigureAwait(false);
        var past = new List<string>();
        foreach (var envelope in fresh)
        {
            if (envelope.Description.Unrecorded && envelope.Record.Offset.Value >= upTo)
            {
                past.Add(envelope.Description.MessageId);
            }
        }

        var recorded = past.Count == 0
            ? []
            : (await InboxRecords.LookUpAsync(db, consumer, past, cancellationToken).ConfigureAwait(false));
        return new OffsetProof(upTo, recorded);
    }

    /// <summary>Records the messages processed past the settled offset, then writes that offset in the transaction.</summary>
    public async Task<long> SettleAsync<TMessage>(
        DbContext db,
        TopicPartition partition,
        IReadOnlyList<KafkaEnvelope<TMessage>> ready,
        IReadOnlyList<KafkaEnvelope<TMessage>> fresh,
        long nextOffset,
        OffsetProof proof,
        CancellationToken cancellationToken)
    {
        var settled = SettledUpTo(ready, fresh, nextOffset);
        await RecordBeyondAsync(db, fresh, settled, proof, cancellationToken).ConfigureAwait(false);
        await DatabaseOffsets.WriteAsync(db, consumer, partition, settled, cancellationToken).ConfigureAwait(false);
        return settled;
    }

    /// <summary>The batch's transaction wrote less than the offset past the batch (or nothing): that one is owed.</summary>
    public bool MustWriteAfter(long written, long nextOffset) => written < nextOffset;

    public async Task<long> WriteAfterAsync(DbContext db, TopicPartition partition, long nextOffset, CancellationToken cancellationToken)
    {
        await DatabaseOffsets.WriteAsync(db, consumer, partition, nextOffset, cancellationToken).ConfigureAwait(false);
        return nextOffset;
    }

    public Task RecordAloneAsync<TMessage>(DbContext db, KafkaEnvelope<TMessage> envelope, CancellationToken cancellationToken)
        => envelope.Description.Unrecorded
            ? InboxRecords.RecordAsync(db, consumer, [envelope.Description], time.GetUtcNow(), cancellationToken)
            : Task.CompletedTask;

    /// <summary>
    /// The offset up to which the records are settled once these new messages commit: up to the first message that is
    /// neither new nor a later copy of a new one. That one may be a duplicate, or a message the inbox rejects (to be
    /// dead-lettered after the commit), which no committed offset may pass before its dead letter is acknowledged.
    /// </summary>
    private static long SettledUpTo<TMessage>(IReadOnlyList<KafkaEnvelope<TMessage>> ready, IReadOnlyList<KafkaEnvelope<TMessage>> fresh, long nextOffset)
    {
        var freshIds = new HashSet<string>(fresh.Count, StringComparer.Ordinal);
        foreach (var envelope in fresh)
        {
            freshIds.Add(envelope.Description.MessageId);
        }

        foreach (var envelope in ready)
        {
            if (!freshIds.Contains(envelope.Description.MessageId))
            {
                return envelope.Record.Offset.Value;
            }
        }

        return nextOffset;
    }

    /// <summary>
    /// Records the unrecorded messages this transaction processed at or past the offset it writes: the offset row does not
    /// cover them (a duplicate or a rejected record before them holds it back), so without a record a crash before the
    /// offset moves on would run them again.
    /// </summary>
    private Task RecordBeyondAsync<TMessage>(
        DbContext db, IReadOnlyList<KafkaEnvelope<TMessage>> fresh, long settled, OffsetProof proof, CancellationToken cancellationToken)
    {
        List<InboxMessage>? beyond = null;
        foreach (var envelope in fresh)
        {
            if (envelope.Description.Unrecorded && envelope.Record.Offset.Value >= settled && !proof.Covers(envelope))
            {
                (beyond ??= []).Add(envelope.Description);
            }
        }

        return beyond is null ? Task.CompletedTask : InboxRecords.RecordAsync(db, consumer, beyond, time.GetUtcNow(), cancellationToken);
    }
}
