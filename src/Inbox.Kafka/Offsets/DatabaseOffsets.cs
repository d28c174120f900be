using Confluent.Kafka;
using Inbox.Storage.Providers;
using Microsoft.EntityFrameworkCore;


namespace Inbox.Kafka.Offsets;

/// <summary>
/// Reads and writes partitions' next offsets through the application's DbContext. A write only ever moves an offset
/// forward, so a slow former owner of a partition cannot move it back.
/// </summary>
internal static class DatabaseOffsets
{
    public const string ConsumerColumn = "consumer";
    public const string TopicColumn = "topic";
    public const string PartitionColumn = "partition";
    public const string NextOffsetColumn = "next_offset";

    public static async Task<Dictionary<TopicPartition, long>> ReadAsync(DbContext db, string consumer, IReadOnlyCollection<string> topics, CancellationToken cancellationToken)
    {
        var rows = await Set(db).AsNoTracking()
            .Where(o => o.Consumer == consumer && topics.Contains(o.Topic))
            .ToListAsync(cancellationToken).ConfigureAwait(false);
        return rows.ToDictionary(o => new TopicPartition(o.Topic, o.Partition), o => o.NextOffset);
    }

    /// <summary>Writes the next offset in the DbContext's current transaction, if any.</summary>
    public static Task WriteAsync(DbContext db, string consumer, TopicPartition partition, long nextOffset, CancellationToken cancellationToken)
        => db.Database.ExecuteSqlRawAsync(
            StorageProvider.For(db).Statements(Statements).Write, [consumer, partition.Topic, partition.Partition.Value, nextOffset], cancellationToken);

    /// <summary>
    /// Locks the partition's offset row for the current transaction and returns its next offset. A missing row is
    /// created at <paramref name="firstOffset"/>, the first record of the batch being processed: every record before it
    /// was settled, or it would not be the first. A second owner of the partition waits here until the first one's
    /// transaction ends, then reads what it wrote.
    /// </summary>
    public static async Task<long> LockAsync(DbContext db, string consumer, TopicPartition partition, long firstOffset, CancellationToken cancellationToken)
    {
        var rows = await db.Database
            .SqlQueryRaw<long>(StorageProvider.For(db).Statements(Statements).Lock, consumer, partition.Topic, partition.Partition.Value, firstOffset)
            .ToListAsync(cancellationToken).ConfigureAwait(false);
        return rows[0];
    }

    /// <summary>Fails at start-up, not on the first batch, when the model has no offsets table.</summary>
    public static void EnsureMapped(DbContext db)
    {
        if (db.Model.FindEntityType(typeof(InboxKafkaOffset)) is null)
        {
            throw new InvalidOperationException(
                $"StoreOffsetsInDatabase is on but {db.GetType().Name}'s model has no Kafka offsets table: call modelBuilder.AddInboxKafkaOffsets() in OnModelCreating.");
        }
    }

    private static readonly StatementSet Statements = new();

    private static DbSet<InboxKafkaOffset> Set(DbContext db) => db.Set<InboxKafkaOffset>();

    /// <summary>The two statements, with the consumer, topic, partition and offset as EF Core's <c>{0}</c>..<c>{3}</c>.</summary>
    private sealed record OffsetStatements(string Write, string Lock);

    /// <summary>
    /// The upsert that only moves forward differs: PostgreSQL needs the target named in the update, SQLite has no INSERT
    /// alias and spells GREATEST max. The lock's update changes nothing; it is there to lock the row that exists (both
    /// engines return it).
    /// </summary>
    private sealed class StatementSet : IStatementSet<OffsetStatements>
    {
        public OffsetStatements ForPostgreSql(StorageProvider provider)
        {
            var (table, key, next) = Names(provider);
            return new(
                $"INSERT INTO {table} AS o ({key}, {next}) VALUES ({{0}}, {{1}}, {{2}}, {{3}}) ON CONFLICT ({key}) DO UPDATE SET {next} = GREATEST(o.{next}, excluded.{next})",
                Lock(table, key, next));
        }

        public OffsetStatements ForSqlite(StorageProvider provider)
        {
            var (table, key, next) = Names(provider);
            return new(
                $"INSERT INTO {table} ({key}, {next}) VALUES ({{0}}, {{1}}, {{2}}, {{3}}) ON CONFLICT ({key}) DO UPDATE SET {next} = max({next}, excluded.{next})",
                Lock(table, key, next));
        }

        private static string Lock(string table, string key, string next)
            => $"INSERT INTO {table} ({key}, {next}) VALUES ({{0}}, {{1}}, {{2}}, {{3}}) " +
                $"ON CONFLICT ({key}) DO UPDATE SET {next} = {table}.{next} RETURNING {next} AS \"Value\"";

        /// <summary>The offsets table, its key columns and its next-offset column, quoted for the provider.</summary>
        private static (string Table, string Key, string Next) Names(StorageProvider provider)
        {
            var table = provider.FindTable(typeof(InboxKafkaOffset))!;
            return (
                table.Quoted,
                $"{table.Column(nameof(InboxKafkaOffset.Consumer))}, {table.Column(nameof(InboxKafkaOffset.Topic))}, {table.Column(nameof(InboxKafkaOffset.Partition))}",
                table.Column(nameof(InboxKafkaOffset.NextOffset)));
        }
    }
}
