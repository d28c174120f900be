using Confluent.Kafka;
using Inbox.Kafka.Consuming;
using Microsoft.EntityFrameworkCore;

namespace Inbox.Kafka.Offsets;

/// <summary>
/// Offsets kept by Kafka alone: the consumer resumes from its committed offsets, nothing to read; a batch proves nothing
/// and writes nothing (every record has an inbox record), its offset is stored once it is done.
/// </summary>
internal sealed class BrokerOffsets : IAssignedOffsets, IBatchOffsets
{
    public static readonly BrokerOffsets Instance = new();

    private static readonly Dictionary<TopicPartition, long> None = [];
    private static readonly Task<OffsetProof> NoneProved = Task.FromResult(OffsetProof.None);
    private static readonly Task<long> NoneWritten = Task.FromResult(-1L);

    public IReadOnlyDictionary<TopicPartition, long> Read(List<TopicPartition> partitions) => None;

    public Task<OffsetProof> ProveAsync<TMessage>(
        DbContext db, TopicPartition partition, long batchStart, IReadOnlyList<KafkaEnvelope<TMessage>> fresh, CancellationToken cancellationToken)
        => NoneProved;

    public Task<long> SettleAsync<TMessage>(
        DbContext db,
        TopicPartition partition,
        IReadOnlyList<KafkaEnvelope<TMessage>> ready,
        IReadOnlyList<KafkaEnvelope<TMessage>> fresh,
        long nextOffset,
        OffsetProof proof,
        CancellationToken cancellationToken)
        => NoneWritten;

    public bool MustWriteAfter(long written, long nextOffset) => false;

    public Task<long> WriteAfterAsync(DbContext db, TopicPartition partition, long nextOffset, CancellationToken cancellationToken) => NoneWritten;

    public Task RecordAloneAsync<TMessage>(DbContext db, KafkaEnvelope<TMessage> envelope, CancellationToken cancellationToken) => Task.CompletedTask;
}
