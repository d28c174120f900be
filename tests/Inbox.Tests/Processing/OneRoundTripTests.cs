using Inbox.Tests.Contract;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Inbox.Tests.Processing;

/// <summary>
/// <see cref="InboxOptions.OneRoundTrip"/> on PostgreSQL: the handler's writes and the inbox record go in one batch, an
/// implicit transaction, and a concurrent duplicate that won leaves nothing of the loser behind. (The whole inbox
/// contract also runs in this mode: <see cref="PostgresOneRoundTripInboxTests"/>.)
/// </summary>
public sealed class OneRoundTripTests(PostgresStoreFixture store) : IClassFixture<PostgresStoreFixture>
{
    [Fact]
    public async Task NewIdThenTheSameAgain_ProcessedThenDuplicateWithoutTheHandler()
    {
        await using var sut = CreateSut();
        var consumer = NewConsumer();
        var calls = 0;

        var first = await sut.ProcessAsync(consumer, "m-1", Counting(consumer, "m-1", () => calls++));
        var again = await sut.ProcessAsync(consumer, "m-1", Counting(consumer, "m-1", () => calls++));

        Assert.Equal(InboxOutcome.Processed, first);
        Assert.Equal(InboxOutcome.Duplicate, again);
        Assert.Equal(1, calls);
        Assert.Equal(new Dictionary<string, int> { ["m-1"] = 1 }, await sut.BusinessRowsAsync(consumer));
        Assert.Equal(["m-1"], await sut.InboxIdsAsync(consumer));
    }

    [Fact]
    public async Task ADuplicateCommitsWhileTheHandlerRuns_TheBatchRollsBackWhole_Duplicate()
    {
        await using var sut = CreateSut();
        var consumer = NewConsumer();

        // The handler writes its row; meanwhile another delivery of the ID commits its record (here: written directly).
        var outcome = await sut.ProcessAsync(consumer, "m-race", async (db, ct) =>
        {
            db.Rows.Add(new BusinessRow { Consumer = consumer, MessageId = "m-race" });
            await using var other = new NpgsqlConnection(store.ConnectionString);
            await other.OpenAsync(ct);
            await using var insert = new NpgsqlCommand("INSERT INTO inbox_messages (consumer, message_id, processed_at) VALUES ($1, 'm-race', now())", other);
            insert.Parameters.Add(new NpgsqlParameter { Value = consumer });
            await insert.ExecuteNonQueryAsync(ct);
        });

        Assert.Equal(InboxOutcome.Duplicate, outcome);
        Assert.Empty(await sut.BusinessRowsAsync(consumer));
        Assert.Equal(["m-race"], await sut.InboxIdsAsync(consumer));
    }

    [Fact]
    public async Task TheHandlersOwnUniqueViolation_IsItsFailure_NothingWritten()
    {
        await using var sut = CreateSut();
        var consumer = NewConsumer();
        await sut.ProcessAsync(consumer, "m-1", (db, _) =>
        {
            db.Rows.Add(new BusinessRow { Id = 900_001, Consumer = consumer, MessageId = "m-1" });
            return Task.CompletedTask;
        });

        var failure = await Assert.ThrowsAsync<DbUpdateException>(() => sut.ProcessAsync(consumer, "m-2", (db, _) =>
        {
            db.Rows.Add(new BusinessRow { Id = 900_001, Consumer = consumer, MessageId = "m-2" });
            return Task.CompletedTask;
        }));

        Assert.Contains("23505", failure.InnerException?.Message ?? "", StringComparison.Ordinal);
        Assert.Equal(["m-1"], await sut.InboxIdsAsync(consumer));
        Assert.Equal(InboxOutcome.Processed, await sut.ProcessAsync(consumer, "m-2"));
    }

    private InboxHarness CreateSut() => new(store, o =>
    {
        o.OneRoundTrip = true;
        o.PurgeEnabled = false;
    });

    private static string NewConsumer() => $"one-trip-{Guid.NewGuid():N}";

    private static Func<TestDbContext, CancellationToken, Task> Counting(string consumer, string id, Action called) => (db, ct) =>
    {
        called();
        return InboxHarness.WriteRow(consumer, id)(db, ct);
    };
}
