using Confluent.Kafka;
using Inbox.Kafka.Offsets;
using Inbox.Kafka.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Inbox.Kafka.Tests;

/// <summary>The offset row's statements on SQLite, the embedded store (PostgreSQL runs them in every database-offset test).</summary>
public sealed class DatabaseOffsetsSqliteTests
{
    [Fact]
    public async Task Lock_CreatesAMissingRowAtTheFirstOffset_ThenReturnsWhatIsStored_AndWritesOnlyMoveItForward()
    {
        await using var connection = new SqliteConnection("Data Source=:memory:");
        await connection.OpenAsync();
        await using var db = new TestDbContext(new DbContextOptionsBuilder<TestDbContext>().UseSqlite(connection).Options);
        await db.Database.EnsureCreatedAsync();
        var partition = new TopicPartition("orders", 0);

        await using (var transaction = await db.Database.BeginTransactionAsync())
        {
            Assert.Equal(5, await DatabaseOffsets.LockAsync(db, "billing", partition, 5, CancellationToken.None));
            await DatabaseOffsets.WriteAsync(db, "billing", partition, 9, CancellationToken.None);
            await transaction.CommitAsync();
        }

        Assert.Equal(9, await DatabaseOffsets.LockAsync(db, "billing", partition, 7, CancellationToken.None));
        await DatabaseOffsets.WriteAsync(db, "billing", partition, 3, CancellationToken.None);
        Assert.Equal(9, await DatabaseOffsets.LockAsync(db, "billing", partition, 0, CancellationToken.None));
        Assert.Equal(new Dictionary<TopicPartition, long> { [partition] = 9 }, await DatabaseOffsets.ReadAsync(db, "billing", ["orders"], CancellationToken.None));
    }
}
