using Inbox.Tests.Contract;
using Npgsql;

namespace Inbox.Tests.Purging;

/// <summary>PostgreSQL only: purgers on many instances, and consumers beside them.</summary>
public sealed class PostgresPurgerTests(PostgresStoreFixture store) : IClassFixture<PostgresStoreFixture>
{
    private static readonly TimeSpan NoWaitLimit = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task PurgeAsync_TwoPurgersAtOnce_NeitherFailsAndEveryExpiredRowGoesOnce()
    {
        await using var sut = new InboxHarness(store, o => o.PurgeBatchSize = 1_000);
        var consumer = "purge-" + Guid.NewGuid().ToString("N")[..8];
        await SeedAsync(consumer, expired: 20_000, fresh: 500, sut.Time.GetUtcNow());

        var passes = await Task.WhenAll(sut.PurgeAsync(), sut.PurgeAsync());

        // One may skip batches the other holds; together they delete each expired row once.
        Assert.Equal(20_000, passes.Sum());
        Assert.Equal((0L, 500L), await CountAsync(consumer, sut.Time.GetUtcNow()));
    }

    [Fact]
    public async Task ProcessAsync_WhilePurgeHoldsExpiredRows_DoesNotWaitAndAPurgeBesideItSkipsLockedRows()
    {
        await using var sut = new InboxHarness(store);
        var consumer = "beside-" + Guid.NewGuid().ToString("N")[..8];
        await SeedAsync(consumer, expired: 1_000, fresh: 0, sut.Time.GetUtcNow());

        // Another instance's purge, caught in the middle: its DELETE has locked every expired row.
        await using var other = new NpgsqlConnection(store.ConnectionString);
        await other.OpenAsync();
        await using var transaction = await other.BeginTransactionAsync();
        await using (var delete = new NpgsqlCommand("DELETE FROM inbox_messages WHERE consumer = $1", other, transaction))
        {
            delete.Parameters.Add(new NpgsqlParameter { Value = consumer });
            Assert.Equal(1_000, await delete.ExecuteNonQueryAsync());
        }

        var outcome = await sut.ProcessAsync(consumer, "new-message").WaitAsync(NoWaitLimit);
        var purged = await sut.PurgeAsync().WaitAsync(NoWaitLimit);

        Assert.Equal(InboxOutcome.Processed, outcome);
        Assert.Equal(0, purged);
        await transaction.RollbackAsync();
        Assert.Equal(1_000, await sut.PurgeAsync());
    }

    [Fact]
    public async Task PurgeAsync_WhileAnotherInstanceHoldsThePurgeLock_SkipsThePassWithoutWaiting()
    {
        await using var sut = new InboxHarness(store);
        var consumer = "locked-" + Guid.NewGuid().ToString("N")[..8];
        await SeedAsync(consumer, expired: 100, fresh: 0, sut.Time.GetUtcNow());
        await using var other = new NpgsqlConnection(store.ConnectionString);
        await other.OpenAsync();
        await using var transaction = await other.BeginTransactionAsync();
        await using (var take = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtext('inbox-purge:inbox_messages'))", other, transaction))
        {
            await take.ExecuteNonQueryAsync();
        }

        var skipped = await sut.PurgeAsync().WaitAsync(NoWaitLimit);
        await transaction.CommitAsync();
        var purged = await sut.PurgeAsync();

        Assert.Equal(0, skipped);
        Assert.True(purged >= 100, $"the pass after the lock was released deleted {purged} rows; expected at least the 100 seeded");
    }

    private async Task SeedAsync(string consumer, int expired, int fresh, DateTimeOffset now)
    {
        await using var connection = new NpgsqlConnection(store.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "INSERT INTO inbox_messages (consumer, message_id, processed_at) " +
            "SELECT $1, 'expired-' || g, $2 FROM generate_series(1, $3) g " +
            "UNION ALL SELECT $1, 'fresh-' || g, $4 FROM generate_series(1, $5) g",
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = consumer });
        command.Parameters.Add(new NpgsqlParameter { Value = now - TimeSpan.FromDays(3) });
        command.Parameters.Add(new NpgsqlParameter { Value = expired });
        command.Parameters.Add(new NpgsqlParameter { Value = now - TimeSpan.FromHours(1) });
        command.Parameters.Add(new NpgsqlParameter { Value = fresh });
        await command.ExecuteNonQueryAsync();
    }

    private async Task<(long Expired, long Fresh)> CountAsync(string consumer, DateTimeOffset now)
    {
        await using var connection = new NpgsqlConnection(store.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT count(*) FILTER (WHERE processed_at < $2), count(*) FILTER (WHERE processed_at >= $2) FROM inbox_messages WHERE consumer = $1",
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = consumer });
        command.Parameters.Add(new NpgsqlParameter { Value = now - TimeSpan.FromHours(24) });
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }
}
