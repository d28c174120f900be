using Inbox.Tests.Contract;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Inbox.Tests.Processing;

/// <summary>PostgreSQL only: a connection lost in the middle of a unit of work.</summary>
public sealed class PostgresResilienceTests(PostgresStoreFixture store) : IClassFixture<PostgresStoreFixture>
{
    [Fact]
    public async Task ProcessAsync_ConnectionKilledMidUnitUnderRetryingStrategy_EndsWithExactlyOneEffect()
    {
        await using var sut = new InboxHarness(store, db: o => o.UseNpgsql(
            store.ConnectionString, npgsql => npgsql.EnableRetryOnFailure(3, TimeSpan.FromMilliseconds(50), null)));
        var consumer = "killed-" + Guid.NewGuid().ToString("N")[..8];
        var attempts = 0;

        var outcome = await sut.ProcessAsync(consumer, "m-1", async (db, ct) =>
        {
            attempts++;
            db.Rows.Add(new BusinessRow { Consumer = consumer, MessageId = "m-1", Note = $"attempt {attempts}" });
            if (attempts == 1)
            {
                await TerminateOwnBackendAsync(db, ct);
            }
        });

        Assert.Equal(InboxOutcome.Processed, outcome);
        Assert.Equal(2, attempts);
        Assert.Equal(new Dictionary<string, int> { ["m-1"] = 1 }, await sut.BusinessRowsAsync(consumer));
        Assert.Equal(["m-1"], await sut.InboxIdsAsync(consumer));
        Assert.Equal(InboxOutcome.Duplicate, await sut.ProcessAsync(consumer, "m-1"));
    }

    [Fact]
    public async Task ProcessAsync_ConnectionKilledMidUnitWithoutEfRetries_HeldAndRunAgainByTheStoreRetry()
    {
        await using var sut = new InboxHarness(store, o => o.StoreRetryDelay = TimeSpan.FromMilliseconds(1));
        var consumer = "held-" + Guid.NewGuid().ToString("N")[..8];
        var attempts = 0;

        var outcome = await sut.AdvancingClockAsync(sut.ProcessAsync(consumer, "m-1", async (db, ct) =>
        {
            attempts++;
            db.Rows.Add(new BusinessRow { Consumer = consumer, MessageId = "m-1", Note = $"attempt {attempts}" });
            if (attempts == 1)
            {
                await TerminateOwnBackendAsync(db, ct);
            }
        }));

        Assert.Equal(InboxOutcome.Processed, outcome);
        Assert.Equal(2, attempts);
        Assert.Equal(new Dictionary<string, int> { ["m-1"] = 1 }, await sut.BusinessRowsAsync(consumer));
    }

    [Fact]
    public async Task ProcessBatchAsync_ConnectionKilledAfterTheHandlerStarted_WholeBatchRunsAgainNotOneByOne()
    {
        await using var sut = new InboxHarness(store, o => o.StoreRetryDelay = TimeSpan.FromMilliseconds(1));
        var consumer = "held-batch-" + Guid.NewGuid().ToString("N")[..8];
        var calls = new List<int>();
        var messages = Enumerable.Range(0, 20).Select(i => new InboxMessage($"m-{i}")).ToList();

        var result = await sut.AdvancingClockAsync(sut.ProcessBatchAsync(consumer, messages, async (db, fresh, ct) =>
        {
            calls.Add(fresh.Count);
            db.Rows.AddRange(fresh.Select(m => new BusinessRow { Consumer = consumer, MessageId = m.MessageId }));
            if (calls.Count == 1)
            {
                await TerminateOwnBackendAsync(db, ct);
            }
        }));

        Assert.Equal([20, 20], calls);
        Assert.Equal(20, result.Processed);
        Assert.Equal(20, (await sut.BusinessRowsAsync(consumer)).Count);
    }

    [Fact]
    public async Task ProcessAsync_SecondDeliveryWhileFirstIsInFlightAndRollsBack_RunsTheSecond()
    {
        await using var sut = new InboxHarness(store);
        var consumer = "inflight-" + Guid.NewGuid().ToString("N")[..8];
        var firstInserted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var first = sut.ProcessAsync(consumer, "m-1", async (_, _) =>
        {
            firstInserted.SetResult();
            await releaseFirst.Task;
            throw new InvalidOperationException("first delivery fails after its insert");
        });
        await firstInserted.Task;

        // The second delivery blocks on the first's uncommitted key, then runs once the first rolls back.
        var second = sut.ProcessAsync(consumer, "m-1");
        Assert.False(second.IsCompleted);
        releaseFirst.SetResult();

        await Assert.ThrowsAsync<InvalidOperationException>(() => first);
        Assert.Equal(InboxOutcome.Processed, await second);
        Assert.Equal(new Dictionary<string, int> { ["m-1"] = 1 }, await sut.BusinessRowsAsync(consumer));
    }

    /// <summary>The inbox row is inserted and uncommitted; now the server drops this connection (57P01).</summary>
    private async Task TerminateOwnBackendAsync(TestDbContext db, CancellationToken ct)
    {
        var pid = await db.Database.SqlQueryRaw<int>("SELECT pg_backend_pid() AS \"Value\"").SingleAsync(ct);
        await using var admin = new NpgsqlConnection(store.ConnectionString);
        await admin.OpenAsync(ct);
        await using var kill = new NpgsqlCommand($"SELECT pg_terminate_backend({pid})", admin);
        Assert.Equal(true, await kill.ExecuteScalarAsync(ct));
    }
}
