using Inbox.Tests.Contract;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Inbox.Tests.Processing;

/// <summary>
/// <see cref="InboxOptions.OneRoundTrip"/> on PostgreSQL: the handler's writes and the inbox record go in one batch, an
/// implicit transaction, and a concurrent duplicate that won leaves nothing of the loser behind. (The whole inbox
/// contract also runs in this mode: <see cref="PostgresOneRoundTripInboxTests"/>.) With the lookup skipped
/// (<see cref="InboxOptions.OneRoundTripLookup"/>), a duplicate runs its handler, and the record's key alone decides.
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

    [Fact]
    public async Task AnUpdateThatMatchesNoRow_FailsWithNothingWritten_NotADuplicate()
    {
        await using var sut = CreateSut(InboxLookup.Never);
        var consumer = NewConsumer();

        // No server error: the update just matches no row, and EF Core throws after the statements ran. In an implicit
        // transaction the insert and the inbox record would have committed by then.
        await Assert.ThrowsAsync<DbUpdateConcurrencyException>(() => sut.ProcessAsync(consumer, "m-1", (db, _) =>
        {
            db.Rows.Add(new BusinessRow { Consumer = consumer, MessageId = "m-1" });
            db.Rows.Update(new BusinessRow { Id = 987_654_321, Consumer = consumer, MessageId = "gone" });
            return Task.CompletedTask;
        }));

        Assert.Empty(await sut.BusinessRowsAsync(consumer));
        Assert.Empty(await sut.InboxIdsAsync(consumer));
    }

    [Theory]
    [InlineData(InboxLookup.WhenRedelivered)]
    [InlineData(InboxLookup.Never)]
    public async Task ACopyThatIsNotLookedUp_RunsItsHandler_ItsWritesRollBack_Duplicate(InboxLookup lookup)
    {
        await using var sut = CreateSut(lookup);
        var consumer = NewConsumer();
        var calls = 0;

        var first = await sut.ProcessAsync(consumer, new InboxMessage("m-1"), Counting(consumer, "m-1", () => calls++));
        var copy = await sut.ProcessAsync(consumer, new InboxMessage("m-1"), Counting(consumer, "m-1", () => calls++));

        Assert.Equal((InboxOutcome.Processed, InboxOutcome.Duplicate), (first, copy));
        Assert.Equal(2, calls);
        Assert.Equal(new Dictionary<string, int> { ["m-1"] = 1 }, await sut.BusinessRowsAsync(consumer));
        Assert.Equal(["m-1"], await sut.InboxIdsAsync(consumer));
    }

    [Fact]
    public async Task WhenRedelivered_ARedeliveredCopyIsLookedUp_ItsHandlerDoesNotRun()
    {
        await using var sut = CreateSut(InboxLookup.WhenRedelivered);
        var consumer = NewConsumer();
        var calls = 0;

        await sut.ProcessAsync(consumer, new InboxMessage("m-1"), Counting(consumer, "m-1", () => calls++));
        var redelivery = await sut.ProcessAsync(consumer, new InboxMessage("m-1") { Redelivered = true }, Counting(consumer, "m-1", () => calls++));

        // A redelivered message the inbox does not know is processed as usual.
        var unknown = await sut.ProcessAsync(consumer, new InboxMessage("m-2") { Redelivered = true }, Counting(consumer, "m-2", () => calls++));

        Assert.Equal((InboxOutcome.Duplicate, InboxOutcome.Processed), (redelivery, unknown));
        Assert.Equal(2, calls);
        Assert.Equal(new Dictionary<string, int> { ["m-1"] = 1, ["m-2"] = 1 }, await sut.BusinessRowsAsync(consumer));
    }

    [Fact]
    public async Task Never_32ConcurrentDeliveriesOfOneId_OneEffectAnd31Duplicates()
    {
        await using var sut = CreateSut(InboxLookup.Never);
        var consumer = NewConsumer();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;

        var deliveries = Enumerable.Range(0, 32).Select(_ => Task.Run(async () =>
        {
            await start.Task;
            return await sut.ProcessAsync(consumer, "same-id", Counting(consumer, "same-id", () => Interlocked.Increment(ref calls)));
        })).ToArray();
        start.SetResult();
        var outcomes = await Task.WhenAll(deliveries);

        Assert.Equal(1, outcomes.Count(o => o == InboxOutcome.Processed));
        Assert.Equal(31, outcomes.Count(o => o == InboxOutcome.Duplicate));
        Assert.Equal(32, calls);
        Assert.Equal(new Dictionary<string, int> { ["same-id"] = 1 }, await sut.BusinessRowsAsync(consumer));
    }

    [Fact]
    public async Task Never_AKnownDuplicatesHandlerThrows_ItIsADuplicate_NotAFailure()
    {
        await using var sut = CreateSut(InboxLookup.Never);
        var consumer = NewConsumer();
        await sut.ProcessAsync(consumer, "m-1");

        // A handler that checks the state the first delivery left, as handlers do ("this order exists already").
        var copy = await sut.ProcessAsync(consumer, "m-1", async (db, ct) =>
        {
            if (await db.Rows.AnyAsync(r => r.Consumer == consumer && r.MessageId == "m-1", ct))
            {
                throw new InvalidOperationException("order m-1 exists already");
            }
        });

        Assert.Equal(InboxOutcome.Duplicate, copy);
        Assert.Equal(new Dictionary<string, int> { ["m-1"] = 1 }, await sut.BusinessRowsAsync(consumer));
    }

    [Fact]
    public async Task Never_ANewMessagesHandlerThrows_TheFailureStands_NothingRecorded()
    {
        await using var sut = CreateSut(InboxLookup.Never);
        var consumer = NewConsumer();

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => sut.ProcessAsync(consumer, "m-1", (db, _) =>
        {
            db.Rows.Add(new BusinessRow { Consumer = consumer, MessageId = "m-1" });
            throw new InvalidOperationException("the handler's own failure");
        }));

        Assert.Equal("the handler's own failure", failure.Message);
        Assert.Empty(await sut.InboxIdsAsync(consumer));
        Assert.Empty(await sut.BusinessRowsAsync(consumer));
        Assert.Equal(InboxOutcome.Processed, await sut.ProcessAsync(consumer, "m-1"));
    }

    [Fact]
    public async Task Never_OtherContentUnderTheSameId_IsAConflict_WithOneEffect()
    {
        await using var sut = CreateSut(InboxLookup.Never, o => o.ConflictPolicy = ConflictPolicy.Skip);
        var consumer = NewConsumer();
        var original = InboxMessage.ComputeFingerprint("{\"amount\":10}"u8);
        var other = InboxMessage.ComputeFingerprint("{\"amount\":99}"u8);

        await sut.ProcessAsync(consumer, new InboxMessage("m-1", original));
        var otherContent = await sut.ProcessAsync(consumer, new InboxMessage("m-1", other));

        Assert.Equal(InboxOutcome.Conflict, otherContent);
        Assert.Equal(new Dictionary<string, int> { ["m-1"] = 1 }, await sut.BusinessRowsAsync(consumer));
    }

    [Fact]
    public async Task Never_LateMessagesUnderRejectPolicy_AreStillLookedUp_KnownIsDuplicate_UnknownRejected()
    {
        await using var sut = CreateSut(InboxLookup.Never, o =>
        {
            o.DeduplicationWindow = TimeSpan.FromHours(1);
            o.LateMessagePolicy = LateMessagePolicy.Reject;
        });
        var consumer = NewConsumer();
        var calls = 0;
        await sut.ProcessAsync(consumer, new InboxMessage("m-1", sentTime: sut.Time.GetUtcNow()));
        sut.Time.Advance(TimeSpan.FromHours(2));
        var twoHoursAgo = sut.Time.GetUtcNow() - TimeSpan.FromHours(2);

        var lateCopy = await sut.ProcessAsync(consumer, new InboxMessage("m-1", sentTime: twoHoursAgo), Counting(consumer, "m-1", () => calls++));
        await Assert.ThrowsAsync<LateMessageException>(() => sut.ProcessAsync(consumer, new InboxMessage("m-2", sentTime: twoHoursAgo), Counting(consumer, "m-2", () => calls++)));

        Assert.Equal(InboxOutcome.Duplicate, lateCopy);
        Assert.Equal(0, calls);
        Assert.Equal(["m-1"], await sut.InboxIdsAsync(consumer));
    }

    private InboxHarness CreateSut(InboxLookup lookup = InboxLookup.Always, Action<InboxOptions>? configure = null) => new(store, o =>
    {
        o.OneRoundTrip = true;
        o.OneRoundTripLookup = lookup;
        o.PurgeEnabled = false;
        configure?.Invoke(o);
    });

    private static string NewConsumer() => $"one-trip-{Guid.NewGuid():N}";

    private static Func<TestDbContext, CancellationToken, Task> Counting(string consumer, string id, Action called) => (db, ct) =>
    {
        called();
        return InboxHarness.WriteRow(consumer, id)(db, ct);
    };
}
