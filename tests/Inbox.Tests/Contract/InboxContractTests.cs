using Inbox.Tests.Purging;

namespace Inbox.Tests.Contract;

/// <summary>What every store must do. Run against each dialect by a subclass.</summary>
public abstract class InboxContractTests<TStore>(TStore store) : IClassFixture<TStore>
    where TStore : StoreFixture
{
    protected TStore Store { get; } = store;

    protected static string NewConsumer() => "consumer-" + Guid.NewGuid().ToString("N")[..8];

    protected InboxHarness CreateSut(Action<InboxOptions>? configure = null) => new(Store, o =>
    {
        Defaults(o);
        configure?.Invoke(o);
    });

    /// <summary>Options every test of the subclass runs with (a unit-of-work mode, say).</summary>
    protected virtual void Defaults(InboxOptions options)
    {
    }

    [Fact]
    public async Task ProcessAsync_NewMessage_RunsHandlerAndCommitsRowWithInboxRecord()
    {
        await using var sut = CreateSut();
        var consumer = NewConsumer();

        var outcome = await sut.ProcessAsync(consumer, "m-1");

        Assert.Equal(InboxOutcome.Processed, outcome);
        Assert.Equal(new Dictionary<string, int> { ["m-1"] = 1 }, await sut.BusinessRowsAsync(consumer));
        Assert.Equal(["m-1"], await sut.InboxIdsAsync(consumer));
    }

    [Fact]
    public async Task ProcessAsync_SameIdAgain_IsDuplicateAndHandlerDoesNotRun()
    {
        await using var sut = CreateSut();
        var consumer = NewConsumer();
        var calls = 0;
        Task Handler(TestDbContext db, CancellationToken ct)
        {
            calls++;
            return InboxHarness.WriteRow(consumer, "m-1")(db, ct);
        }

        var first = await sut.ProcessAsync(consumer, "m-1", Handler);
        var second = await sut.ProcessAsync(consumer, "m-1", Handler);

        Assert.Equal(InboxOutcome.Processed, first);
        Assert.Equal(InboxOutcome.Duplicate, second);
        Assert.Equal(1, calls);
        Assert.Equal(1, (await sut.BusinessRowsAsync(consumer))["m-1"]);
    }

    [Fact]
    public async Task ProcessAsync_HandlerThrows_LeavesNothingAndNextDeliveryProcesses()
    {
        await using var sut = CreateSut();
        var consumer = NewConsumer();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => sut.ProcessAsync(consumer, "m-1", (db, _) =>
        {
            db.Rows.Add(new BusinessRow { Consumer = consumer, MessageId = "m-1", Note = "from the failed attempt" });
            throw new InvalidOperationException("handler failed");
        }));

        Assert.Equal("handler failed", error.Message);
        Assert.Empty(await sut.BusinessRowsAsync(consumer));
        Assert.Empty(await sut.InboxIdsAsync(consumer));

        var redelivery = await sut.ProcessAsync(consumer, "m-1");

        Assert.Equal(InboxOutcome.Processed, redelivery);
        Assert.Equal(1, (await sut.BusinessRowsAsync(consumer))["m-1"]);
    }

    [Fact]
    public async Task ProcessAsync_32ConcurrentDeliveriesOfOneId_OneEffectAnd31Duplicates()
    {
        await using var sut = CreateSut();
        var consumer = NewConsumer();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var deliveries = Enumerable.Range(0, 32).Select(_ => Task.Run(async () =>
        {
            await start.Task;
            return await sut.ProcessAsync(consumer, "same-id");
        })).ToArray();
        start.SetResult();
        var outcomes = await Task.WhenAll(deliveries);

        Assert.Equal(1, outcomes.Count(o => o == InboxOutcome.Processed));
        Assert.Equal(31, outcomes.Count(o => o == InboxOutcome.Duplicate));
        Assert.Equal(new Dictionary<string, int> { ["same-id"] = 1 }, await sut.BusinessRowsAsync(consumer));
    }

    [Fact]
    public async Task ProcessAsync_SameIdForTwoConsumers_ProcessedByEach()
    {
        await using var sut = CreateSut();
        var billing = NewConsumer();
        var shipping = NewConsumer();

        Assert.Equal(InboxOutcome.Processed, await sut.ProcessAsync(billing, "m-1"));
        Assert.Equal(InboxOutcome.Processed, await sut.ProcessAsync(shipping, "m-1"));
        Assert.Equal(InboxOutcome.Duplicate, await sut.ProcessAsync(billing, "m-1"));
        Assert.Equal(1, (await sut.BusinessRowsAsync(billing))["m-1"]);
        Assert.Equal(1, (await sut.BusinessRowsAsync(shipping))["m-1"]);
    }

    [Fact]
    public async Task ProcessAsync_SameIdOtherContentUnderSkipPolicy_IsConflictCountedAndHandlerDoesNotRun()
    {
        await using var sut = CreateSut(o => o.ConflictPolicy = ConflictPolicy.Skip);
        using var conflicts = sut.Collect("inbox.messages.conflict");
        var consumer = NewConsumer();
        var original = InboxMessage.ComputeFingerprint("{\"amount\":10}"u8);
        var other = InboxMessage.ComputeFingerprint("{\"amount\":99}"u8);
        var ran = 0;

        await sut.ProcessAsync(consumer, new InboxMessage("m-1", original));
        var sameContent = await sut.ProcessAsync(consumer, new InboxMessage("m-1", original), (_, _) => { ran++; return Task.CompletedTask; });
        var otherContent = await sut.ProcessAsync(consumer, new InboxMessage("m-1", other), (_, _) => { ran++; return Task.CompletedTask; });

        Assert.Equal(InboxOutcome.Duplicate, sameContent);
        Assert.Equal(InboxOutcome.Conflict, otherContent);
        Assert.Equal(0, ran);
        Assert.Equal(1, conflicts.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal(1, (await sut.BusinessRowsAsync(consumer))["m-1"]);
    }

    [Fact]
    public async Task ProcessAsync_SameIdOtherContentUnderDefaultPolicy_ThrowsConflictCountedAndHandlerDoesNotRun()
    {
        await using var sut = CreateSut();
        using var conflicts = sut.Collect("inbox.messages.conflict");
        var consumer = NewConsumer();
        var ran = 0;
        await sut.ProcessAsync(consumer, new InboxMessage("m-1", InboxMessage.ComputeFingerprint("{\"amount\":10}"u8)));

        var error = await Assert.ThrowsAsync<InboxConflictException>(() => sut.ProcessAsync(
            consumer, new InboxMessage("m-1", InboxMessage.ComputeFingerprint("{\"amount\":99}"u8)), (_, _) => { ran++; return Task.CompletedTask; }));

        Assert.Contains("was already processed by " + consumer + " with other content", error.Message, StringComparison.Ordinal);
        Assert.Equal(InboxFailureKind.Input, InboxFailures.Classify(error));
        Assert.Equal(0, ran);
        Assert.Equal(1, conflicts.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal(1, (await sut.BusinessRowsAsync(consumer))["m-1"]);
    }

    [Fact]
    public async Task ProcessAsync_LateDuplicateUnderRejectPolicy_IsADuplicateNotARejection()
    {
        await using var sut = CreateSut(o =>
        {
            o.DeduplicationWindow = TimeSpan.FromHours(1);
            o.LateMessagePolicy = LateMessagePolicy.Reject;
        });
        using var late = sut.Collect("inbox.messages.late");
        var consumer = NewConsumer();
        await sut.ProcessAsync(consumer, new InboxMessage("m-1", sentTime: sut.Time.GetUtcNow()));

        // The same message redelivered two hours later: its record is still there, so it is recognised.
        sut.Time.Advance(TimeSpan.FromHours(2));
        var redelivery = await sut.ProcessAsync(consumer, new InboxMessage("m-1", sentTime: sut.Time.GetUtcNow() - TimeSpan.FromHours(2)));

        Assert.Equal(InboxOutcome.Duplicate, redelivery);
        Assert.Equal(0, late.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal(1, (await sut.BusinessRowsAsync(consumer))["m-1"]);
    }

    [Fact]
    public async Task ProcessBatchAsync_LateMessagesUnderRejectPolicy_KnownOneIsDuplicateUnknownOneRejectedOthersProcessed()
    {
        await using var sut = CreateSut(o =>
        {
            o.DeduplicationWindow = TimeSpan.FromHours(1);
            o.LateMessagePolicy = LateMessagePolicy.Reject;
        });
        using var late = sut.Collect("inbox.messages.late");
        var consumer = NewConsumer();
        await sut.ProcessAsync(consumer, "known");
        var longAgo = sut.Time.GetUtcNow() - TimeSpan.FromHours(2);

        var result = await sut.ProcessBatchAsync(consumer, [new("known", sentTime: longAgo), new("unknown", sentTime: longAgo), new("on-time", sentTime: sut.Time.GetUtcNow())]);

        Assert.Equal(InboxOutcome.Duplicate, result.Items[0].Outcome);
        Assert.Null(result.Items[0].Error);
        Assert.IsType<LateMessageException>(result.Items[1].Error);
        Assert.Equal(InboxOutcome.Processed, result.Items[2].Outcome);
        Assert.Null(result.Items[2].Error);
        Assert.Equal(1, late.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal(["known", "on-time"], (await sut.InboxIdsAsync(consumer)).Order());
        Assert.Equal(["known", "on-time"], (await sut.BusinessRowsAsync(consumer)).Keys.Order());
    }

    [Fact]
    public async Task ProcessBatchAsync_ConflictUnderEachPolicy_RejectedAsAnErrorOrSkipped()
    {
        var original = InboxMessage.ComputeFingerprint("{\"amount\":10}"u8);
        var other = InboxMessage.ComputeFingerprint("{\"amount\":99}"u8);
        await using var reject = CreateSut();
        await using var skip = CreateSut(o => o.ConflictPolicy = ConflictPolicy.Skip);
        var consumer = NewConsumer();
        await reject.ProcessAsync(consumer, new InboxMessage("m-1", original));

        var rejected = await reject.ProcessBatchAsync(consumer, [new("m-1", other), new("m-2", other)]);
        var skipped = await skip.ProcessBatchAsync(consumer, [new("m-1", other), new("m-3", other)]);

        Assert.IsType<InboxConflictException>(rejected.Items[0].Error);
        Assert.Equal(InboxOutcome.Processed, rejected.Items[1].Outcome);
        Assert.Null(skipped.Items[0].Error);
        Assert.Equal(InboxOutcome.Conflict, skipped.Items[0].Outcome);
        Assert.Equal(InboxOutcome.Processed, skipped.Items[1].Outcome);
        Assert.Equal(["m-1", "m-2", "m-3"], (await reject.BusinessRowsAsync(consumer)).Keys.Order());
    }

    [Fact]
    public async Task ProcessBatchAsync_TwoCopiesOfOneIdWithOtherContentInOneBatch_TheLaterOneIsTheConflict()
    {
        await using var sut = CreateSut();
        using var conflicts = sut.Collect("inbox.messages.conflict");
        var consumer = NewConsumer();
        var content = InboxMessage.ComputeFingerprint("{\"amount\":10}"u8);

        var result = await sut.ProcessBatchAsync(consumer, [new("m-1", content), new("m-1", content), new("m-1", InboxMessage.ComputeFingerprint("{\"amount\":99}"u8))]);

        Assert.Equal(InboxOutcome.Processed, result.Items[0].Outcome);
        Assert.Equal(InboxOutcome.Duplicate, result.Items[1].Outcome);
        Assert.IsType<InboxConflictException>(result.Items[2].Error);
        Assert.Equal(1, conflicts.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal(1, (await sut.BusinessRowsAsync(consumer))["m-1"]);
    }

    [Fact]
    public async Task ProcessAsync_LateMessageUnderDefaultPolicy_IsProcessedAndCounted()
    {
        await using var sut = CreateSut(o => o.DeduplicationWindow = TimeSpan.FromHours(1));
        using var late = sut.Collect("inbox.messages.late");
        var consumer = NewConsumer();
        var sent = sut.Time.GetUtcNow() - TimeSpan.FromHours(2);

        var outcome = await sut.ProcessAsync(consumer, new InboxMessage("m-late", sentTime: sent));

        Assert.Equal(InboxOutcome.Processed, outcome);
        Assert.Equal(1, late.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal(1, (await sut.BusinessRowsAsync(consumer))["m-late"]);
    }

    [Fact]
    public async Task ProcessAsync_LateMessageUnderRejectPolicy_ThrowsAndWritesNothing()
    {
        await using var sut = CreateSut(o =>
        {
            o.DeduplicationWindow = TimeSpan.FromHours(1);
            o.LateMessagePolicy = LateMessagePolicy.Reject;
        });
        using var late = sut.Collect("inbox.messages.late");
        var consumer = NewConsumer();
        var sent = sut.Time.GetUtcNow() - TimeSpan.FromHours(2);

        var error = await Assert.ThrowsAsync<LateMessageException>(() => sut.ProcessAsync(consumer, new InboxMessage("m-late", sentTime: sent)));

        Assert.Contains("LateMessagePolicy is Reject", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, late.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Empty(await sut.BusinessRowsAsync(consumer));
        Assert.Empty(await sut.InboxIdsAsync(consumer));

        var onTime = await sut.ProcessAsync(consumer, new InboxMessage("m-on-time", sentTime: sut.Time.GetUtcNow() - TimeSpan.FromMinutes(59)));
        Assert.Equal(InboxOutcome.Processed, onTime);
    }

    [Fact]
    public async Task ProcessBatchAsync_DuplicatesInsideAndAcrossBatches_HandlerSeesEachIdOnce()
    {
        await using var sut = CreateSut();
        var consumer = NewConsumer();
        var seen = new List<string[]>();
        Task Handler(TestDbContext db, IReadOnlyList<InboxMessage> fresh, CancellationToken ct)
        {
            seen.Add(fresh.Select(m => m.MessageId).ToArray());
            db.Rows.AddRange(fresh.Select(m => new BusinessRow { Consumer = consumer, MessageId = m.MessageId }));
            return Task.CompletedTask;
        }

        var first = await sut.ProcessBatchAsync(consumer, [new("c"), new("a"), new("c"), new("b")], Handler);
        var second = await sut.ProcessBatchAsync(consumer, [new("b"), new("d"), new("a"), new("d")], Handler);

        Assert.Equal(["c", "a", "b"], seen[0]);
        Assert.Equal(["d"], seen[1]);
        Assert.Equal(
            [InboxOutcome.Processed, InboxOutcome.Processed, InboxOutcome.Duplicate, InboxOutcome.Processed],
            first.Items.Select(i => i.Outcome));
        Assert.Equal(
            [InboxOutcome.Duplicate, InboxOutcome.Processed, InboxOutcome.Duplicate, InboxOutcome.Duplicate],
            second.Items.Select(i => i.Outcome));
        Assert.Equal((3, 1, 0), (first.Processed, first.Duplicates, first.Failed));
        var rows = await sut.BusinessRowsAsync(consumer);
        Assert.Equal(["a", "b", "c", "d"], rows.Keys.Order());
        Assert.All(rows.Values, count => Assert.Equal(1, count));
    }

    [Fact]
    public async Task ProcessBatchAsync_OnePoisonMessage_OthersCommitAndPoisonIsReportedWithoutInboxRecord()
    {
        await using var sut = CreateSut();
        var consumer = NewConsumer();
        var messages = new InboxMessage[] { new("ok-1"), new("poison"), new("ok-2"), new("ok-3") };

        var result = await sut.ProcessBatchAsync(consumer, messages, (db, fresh, _) =>
        {
            foreach (var message in fresh)
            {
                if (message.MessageId == "poison")
                {
                    throw new FormatException("cannot handle poison");
                }

                db.Rows.Add(new BusinessRow { Consumer = consumer, MessageId = message.MessageId });
            }

            return Task.CompletedTask;
        });

        Assert.Equal(3, result.Processed);
        Assert.Equal(1, result.Failed);
        var poison = result.Items[1];
        Assert.False(poison.Succeeded);
        Assert.IsType<FormatException>(poison.Error);
        Assert.Equal(["ok-1", "ok-2", "ok-3"], (await sut.BusinessRowsAsync(consumer)).Keys.Order());
        Assert.DoesNotContain("poison", await sut.InboxIdsAsync(consumer));
    }

    [Fact]
    public async Task ProcessBatchAsync_InvalidIdInBatch_IsReportedAndOthersProcessed()
    {
        await using var sut = CreateSut();
        var consumer = NewConsumer();

        var result = await sut.ProcessBatchAsync(consumer, [new("ok-1"), new(""), new("ok-2")]);

        Assert.IsType<InvalidInboxInputException>(result.Items[1].Error);
        Assert.Equal(2, result.Processed);
        Assert.Equal(["ok-1", "ok-2"], (await sut.BusinessRowsAsync(consumer)).Keys.Order());
    }

    [Fact]
    public async Task ProcessBatchAsync_AllDuplicates_HandlerDoesNotRun()
    {
        await using var sut = CreateSut();
        var consumer = NewConsumer();
        await sut.ProcessBatchAsync(consumer, [new("a"), new("b")]);
        var ran = false;

        var result = await sut.ProcessBatchAsync(consumer, [new("a"), new("b")], (_, _, _) => { ran = true; return Task.CompletedTask; });

        Assert.False(ran);
        Assert.Equal(2, result.Duplicates);
    }

    public static TheoryData<string?, string> InvalidIds => new()
    {
        { null, "missing" },
        { "", "empty" },
        { "   ", "white space" },
        { new string('x', 257), "257 characters long; the limit is 256" },
        { "a\u0001b", "control character U+0001" },
        { "a\nb", "control character U+000A" },
    };

    [Theory]
    [MemberData(nameof(InvalidIds))]
    public async Task ProcessAsync_InvalidMessageId_ThrowsTypedErrorBeforeDatabaseWork(string? messageId, string reason)
    {
        await using var sut = CreateSut();
        var consumer = NewConsumer();

        var error = await Assert.ThrowsAsync<InvalidInboxInputException>(() => sut.ProcessAsync(consumer, messageId!));

        Assert.Equal("messageId", error.ParamName);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.Empty(await sut.BusinessRowsAsync(consumer));
    }

    [Theory]
    [MemberData(nameof(InvalidIds))]
    public async Task ProcessAsync_InvalidConsumer_ThrowsTypedError(string? consumer, string reason)
    {
        await using var sut = CreateSut();

        var error = await Assert.ThrowsAsync<InvalidInboxInputException>(() => sut.ProcessAsync(consumer!, "m-1"));

        Assert.Equal("consumer", error.ParamName);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProcessAsync_IdAtTheLengthLimit_IsAccepted()
    {
        await using var sut = CreateSut();
        var consumer = NewConsumer();

        Assert.Equal(InboxOutcome.Processed, await sut.ProcessAsync(consumer, new string('x', 256)));
    }

    [Fact]
    public async Task ProcessAsync_Outcomes_AreCounted()
    {
        await using var sut = CreateSut();
        using var processed = sut.Collect("inbox.messages.processed");
        using var duplicates = sut.Collect("inbox.messages.duplicate");
        var consumer = NewConsumer();

        await sut.ProcessAsync(consumer, "m-1");
        await sut.ProcessAsync(consumer, "m-1");
        await sut.ProcessAsync(consumer, "m-2");

        Assert.Equal(2, processed.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal(1, duplicates.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal(consumer, processed.LastMeasurement!.Tags["messaging.consumer.group.name"]);
    }

    /// <summary>Retention by DELETE forgets records one window after they were written; generations differ (see their subclass).</summary>
    [Fact]
    public virtual Task PurgeAsync_ForgetsOnlyExpiredRecordsAndReportsOldestAge() => DeletesOnlyExpiredRecordsInBatchesAsync();

    private async Task DeletesOnlyExpiredRecordsInBatchesAsync()
    {
        await using var sut = CreateSut(o =>
        {
            o.DeduplicationWindow = TimeSpan.FromHours(24);
            o.PurgeBatchSize = 3;
        });
        using var purged = sut.Collect("inbox.records.purged");
        using var oldestAge = sut.Collect<double>("inbox.records.oldest_age");
        var consumer = NewConsumer();
        for (var i = 0; i < 10; i++)
        {
            await sut.ProcessAsync(consumer, $"old-{i}");
        }

        sut.Time.Advance(TimeSpan.FromHours(20));
        await sut.ProcessAsync(consumer, "recent");
        sut.Time.Advance(TimeSpan.FromHours(5));

        await sut.PurgeAsync();

        Assert.Equal(["recent"], await sut.InboxIdsAsync(consumer));
        Assert.True(purged.GetMeasurementSnapshot().Sum(m => m.Value) >= 10);

        // What is left is "recent", processed 5 hours before the purge ran.
        oldestAge.RecordObservableInstruments();
        Assert.Equal(TimeSpan.FromHours(5).TotalSeconds, oldestAge.LastMeasurement!.Value);

        // An expired ID is forgotten: a redelivery now is processed again. That is the window's trade-off.
        Assert.Equal(InboxOutcome.Processed, await sut.ProcessAsync(consumer, "old-0"));
        Assert.Equal(InboxOutcome.Duplicate, await sut.ProcessAsync(consumer, "recent"));
    }
}

public sealed class SqliteInboxTests(SqliteStoreFixture store) : InboxContractTests<SqliteStoreFixture>(store);

public sealed class PostgresInboxTests(PostgresStoreFixture store) : InboxContractTests<PostgresStoreFixture>(store);

/// <summary>The same contract under Npgsql's retrying execution strategy (<c>EnableRetryOnFailure</c>), purger included.</summary>
public sealed class PostgresRetryingInboxTests(PostgresRetryingStoreFixture store) : InboxContractTests<PostgresRetryingStoreFixture>(store);

/// <summary>The same contract on PostgreSQL with <see cref="InboxOptions.OneRoundTrip"/>: every promise holds in that mode too.</summary>
public sealed class PostgresOneRoundTripInboxTests(PostgresStoreFixture store) : InboxContractTests<PostgresStoreFixture>(store)
{
    protected override void Defaults(InboxOptions options) => options.OneRoundTrip = true;
}

/// <summary>
/// The same contract on PostgreSQL with <see cref="InboxRetention.Generations"/>: every promise holds with three tables,
/// and expiry works by generation instead of by record.
/// </summary>
public abstract class GenerationsInboxContractTests<TStore>(TStore store) : InboxContractTests<TStore>(store)
    where TStore : PostgresGenerationsStoreFixture
{
    /// <summary>
    /// Records are forgotten a whole generation at a time: an ID is still known one window after its generation ended,
    /// and forgotten once the generation after that has settled.
    /// </summary>
    [Fact]
    public override async Task PurgeAsync_ForgetsOnlyExpiredRecordsAndReportsOldestAge()
    {
        await using var sut = CreateSut(o => o.DeduplicationWindow = TimeSpan.FromHours(24));
        await GenerationsSql.ResetAsync(sut);
        using var purged = sut.Collect("inbox.records.purged");
        using var oldestAge = sut.Collect<double>("inbox.records.oldest_age");
        var consumer = NewConsumer();

        // The first pass starts generation 0's clock.
        await sut.PurgeAsync();
        for (var i = 0; i < 10; i++)
        {
            await sut.ProcessAsync(consumer, $"old-{i}");
        }

        sut.Time.Advance(TimeSpan.FromHours(20));
        await sut.ProcessAsync(consumer, "recent");

        // Generation 0 is a window old: generation 1 is current, generation 0 is still checked.
        sut.Time.Advance(TimeSpan.FromHours(5));
        await GenerationsSql.SettleAsync(sut);
        Assert.Equal((1, false), await GenerationsSql.StateAsync(sut));
        Assert.Equal(InboxOutcome.Duplicate, await sut.ProcessAsync(consumer, "old-0"));
        await sut.ProcessAsync(consumer, "later");

        // Generation 1 is a window old: generation 2 is current and generation 0's table is emptied.
        sut.Time.Advance(TimeSpan.FromHours(24));
        await GenerationsSql.SettleAsync(sut);
        Assert.Equal((2, false), await GenerationsSql.StateAsync(sut));
        Assert.Equal(["later"], await sut.InboxIdsAsync(consumer));
        Assert.NotEmpty(purged.GetMeasurementSnapshot());

        // Nothing kept is older than generation 1, which began 24 hours before the last pass (and the moments the
        // fake clock moved on while passes waited for settling).
        oldestAge.RecordObservableInstruments();
        Assert.InRange(oldestAge.LastMeasurement!.Value, TimeSpan.FromHours(24).TotalSeconds, TimeSpan.FromHours(24).TotalSeconds + 60);

        // Expired IDs are forgotten: a redelivery now is processed again. That is the window's trade-off.
        Assert.Equal(InboxOutcome.Processed, await sut.ProcessAsync(consumer, "old-0"));
        Assert.Equal(InboxOutcome.Processed, await sut.ProcessAsync(consumer, "recent"));
        Assert.Equal(InboxOutcome.Duplicate, await sut.ProcessAsync(consumer, "later"));
    }
}

public sealed class PostgresGenerationsInboxTests(PostgresGenerationsStoreFixture store) : GenerationsInboxContractTests<PostgresGenerationsStoreFixture>(store);

/// <summary>Generations under Npgsql's retrying execution strategy (<c>EnableRetryOnFailure</c>): rotation and settling included.</summary>
public sealed class PostgresRetryingGenerationsInboxTests(PostgresRetryingGenerationsStoreFixture store) : GenerationsInboxContractTests<PostgresRetryingGenerationsStoreFixture>(store);
