using Inbox.Tests.Contract;
using Inbox.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Npgsql;

namespace Inbox.Tests.Purging;

/// <summary>
/// <see cref="InboxRetention.Generations"/> on PostgreSQL: the race a rotation opens, several instances rotating, a
/// rotation that dies half-way, and many deliveries straddling rotations.
/// </summary>
public sealed class PostgresGenerationsTests(PostgresGenerationsStoreFixture store) : IClassFixture<PostgresGenerationsStoreFixture>
{
    private static readonly TimeSpan Window = TimeSpan.FromHours(1);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private const string HoldControlRow = "SELECT 1 FROM inbox_messages_generation FOR UPDATE";

    private InboxHarness CreateSut(Action<IServiceCollection>? more = null) => new(store, o =>
    {
        o.DeduplicationWindow = Window;

        // A pass waits a tenth of this for settling: short, so that a test sees the pass end while a unit is open.
        o.PurgeInterval = TimeSpan.FromSeconds(1);
    }, more: more);

    /// <summary>A fresh start: generation 0 with its clock started, every table empty.</summary>
    private async Task<InboxHarness> StartAsync(Action<IServiceCollection>? more = null)
    {
        var sut = CreateSut(more);
        await GenerationsSql.ResetAsync(sut);
        await sut.PurgeAsync();
        return sut;
    }

    /// <summary>Makes generation 1 current and keeps it settling: a transaction older than the switch stays open.</summary>
    private async Task<OpenTransaction> SettlingAsync(InboxHarness sut)
    {
        var older = await OpenTransaction.BeginAsync(store.ConnectionString, "SELECT pg_current_xact_id()");
        sut.Time.Advance(Window);
        await sut.PurgeAsync();
        Assert.Equal((1, true), await GenerationsSql.StateAsync(sut));
        return older;
    }

    private static string NewConsumer() => "gen-" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>
    /// The race: unit A records the ID under generation 0 and is still open when generation 1 becomes current; a copy B
    /// arrives under generation 1. B cannot see A's uncommitted row in table 0 and table 1 does not hold it, so without
    /// settling both would run. While generation 1 settles, B also inserts into table 0, waits for A there, and is a
    /// duplicate once A commits. The rotation itself does not wait for A, and settling ends once A has.
    /// </summary>
    [Fact]
    public async Task ProcessAsync_CopyArrivesUnderTheNextGenerationWhileTheFirstIsOpen_WaitsForItAndIsADuplicate()
    {
        await using var sut = await StartAsync();
        var consumer = NewConsumer();
        var recorded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var first = sut.ProcessAsync(consumer, "m-1", async (db, ct) =>
        {
            recorded.SetResult();
            await release.Task;
            await InboxHarness.WriteRow(consumer, "m-1")(db, ct);
        });
        await recorded.Task.WaitAsync(Patience);

        // The rotation goes through beside the open unit; settling waits for it.
        sut.Time.Advance(Window);
        await sut.PurgeAsync().WaitAsync(Patience);
        Assert.Equal((1, true), await GenerationsSql.StateAsync(sut));

        var second = sut.ProcessAsync(consumer, "m-1");
        await WaitForLockWaitAsync(store.ConnectionString);
        Assert.False(second.IsCompleted);

        release.SetResult();
        Assert.Equal(InboxOutcome.Processed, await first.WaitAsync(Patience));
        Assert.Equal(InboxOutcome.Duplicate, await second.WaitAsync(Patience));
        Assert.Equal(new Dictionary<string, int> { ["m-1"] = 1 }, await sut.BusinessRowsAsync(consumer));

        // A has ended: settling completes, and the ID, committed in table 0, is still a duplicate.
        await GenerationsSql.SettleAsync(sut);
        Assert.Equal(InboxOutcome.Duplicate, await sut.ProcessAsync(consumer, "m-1"));
    }

    /// <summary>The same race for a batch: its IDs go into both tables while settling and wait for the open unit there.</summary>
    [Fact]
    public async Task ProcessBatchAsync_CopiesArriveUnderTheNextGenerationWhileTheFirstIsOpen_OnlyTheNewOnesRun()
    {
        await using var sut = await StartAsync();
        var consumer = NewConsumer();
        var recorded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var first = sut.ProcessBatchAsync(consumer, [new("a"), new("b")], async (db, fresh, _) =>
        {
            recorded.SetResult();
            await release.Task;
            db.Rows.AddRange(fresh.Select(m => new BusinessRow { Consumer = consumer, MessageId = m.MessageId }));
        });
        await recorded.Task.WaitAsync(Patience);
        sut.Time.Advance(Window);
        await sut.PurgeAsync().WaitAsync(Patience);

        var second = sut.ProcessBatchAsync(consumer, [new("a"), new("b"), new("c")]);
        await WaitForLockWaitAsync(store.ConnectionString);
        release.SetResult();

        Assert.Equal(2, (await first.WaitAsync(Patience)).Processed);
        var result = await second.WaitAsync(Patience);
        Assert.Equal((1, 2), (result.Processed, result.Duplicates));
        Assert.Equal(new Dictionary<string, int> { ["a"] = 1, ["b"] = 1, ["c"] = 1 }, await sut.BusinessRowsAsync(consumer));
    }

    /// <summary>
    /// Twenty waves of 32 IDs, each delivered twice at once (singles and batches), with one rotation in the middle of
    /// every wave. Copies straddle the rotations at random; each ID still takes effect once.
    /// </summary>
    [Fact]
    public async Task ProcessAsync_ConcurrentCopiesWhileGenerationsRotate_EveryIdTakesEffectOnce()
    {
        await using var sut = await StartAsync();
        var consumer = NewConsumer();
        const int Waves = 20;
        const int IdsPerWave = 32;

        for (var wave = 0; wave < Waves; wave++)
        {
            // Settled before the wave, so that its pass switches at once while the wave's deliveries are in flight
            // (settling waits for every older transaction of the cluster, other test classes' too).
            await GenerationsSql.SettleAsync(sut);
            var ids = Enumerable.Range(0, IdsPerWave).Select(i => $"w{wave}-{i}").ToArray();
            var deliveries = ids.Concat(ids).OrderBy(_ => Random.Shared.Next()).ToArray();
            var work = deliveries.Select((id, i) => i % 4 == 0
                ? (Task)sut.ProcessBatchAsync(consumer, [new(id), new(ids[(Array.IndexOf(ids, id) + 1) % IdsPerWave])])
                : sut.ProcessAsync(consumer, id)).ToList();

            sut.Time.Advance(Window);
            work.Add(sut.PurgeAsync());
            await Task.WhenAll(work).WaitAsync(Patience);
        }

        var rows = await sut.BusinessRowsAsync(consumer);
        Assert.Equal(Waves * IdsPerWave, rows.Count);
        Assert.All(rows, row => Assert.Equal(1, row.Value));
        Assert.Equal(Waves, (await GenerationsSql.StateAsync(sut)).Generation);
    }

    /// <summary>
    /// While a generation settles, every statement inserts into two tables. Overlapping batches and single messages,
    /// 16 at a time, each take effect once and never need a store retry (a deadlock would show as one). Each statement
    /// locks the previous table's keys before the current table's, in ID order; this test did not hit a deadlock with
    /// the earlier, unordered statement either, so it guards the outcome rather than proving the order.
    /// </summary>
    [Fact]
    public async Task ProcessAsync_OverlappingBatchesWhileSettling_NoDeadlockAndEveryIdOnce()
    {
        await using var sut = await StartAsync(s => s.AddFakeLogging());
        using var retries = sut.Collect("inbox.store.retries");
        var logs = sut.Services.GetRequiredService<FakeLogCollector>();
        var consumer = NewConsumer();

        // An older transaction keeps generation 1 settling for the whole test.
        await using var older = await SettlingAsync(sut);

        var ids = Enumerable.Range(0, 60).Select(i => $"s-{i:D2}").ToArray();
        var random = new Random(7);
        // 120 deliveries, 16 at a time (the server's connection limit is shared with the other test classes).
        using var gate = new SemaphoreSlim(16);
        var work = Enumerable.Range(0, 120).Select(async i =>
        {
            var start = random.Next(ids.Length);
            var picked = Enumerable.Range(0, 1 + random.Next(12)).Select(k => ids[(start + k) % ids.Length]).Distinct().ToList();
            var shuffled = picked.OrderBy(_ => random.Next()).Select(id => new InboxMessage(id)).ToList();
            await gate.WaitAsync();
            try
            {
                await (picked.Count == 1 ? (Task)sut.ProcessAsync(consumer, picked[0]) : sut.ProcessBatchAsync(consumer, shuffled));
            }
            finally
            {
                gate.Release();
            }
        }).ToList();
        // A store retry waits on the fake clock: move it on, so that a deadlock shows as a count, not as a hang.
        await sut.AdvancingClockAsync(Task.WhenAll(work).ContinueWith(static t => t.Exception?.InnerException?.Message ?? "", TaskScheduler.Default));

        var rows = await sut.BusinessRowsAsync(consumer);
        Assert.All(rows, row => Assert.Equal(1, row.Value));
        Assert.True(retries.GetMeasurementSnapshot().Sum(m => m.Value) == 0, string.Join("\n", logs.GetSnapshot().Where(r => r.Level >= LogLevel.Warning).Take(3).Select(r => r.Message + " " + r.Exception?.Message)));
        await older.RollbackAsync();
    }

    /// <summary>
    /// While settling, a batch holding a known ID and a new one records only the new one in the current table: a
    /// duplicate leaves no second row (with another fingerprint, say) that a later lookup could read instead.
    /// </summary>
    [Fact]
    public async Task ProcessBatchAsync_KnownIdWhileSettling_LeavesNoRowInTheCurrentTable()
    {
        await using var sut = await StartAsync();
        var consumer = NewConsumer();
        await sut.ProcessAsync(consumer, "known");
        await using var older = await SettlingAsync(sut);

        var result = await sut.ProcessBatchAsync(consumer, [new("known"), new("new")]);

        Assert.Equal((1, 1), (result.Processed, result.Duplicates));
        await using var scope = sut.Services.CreateAsyncScope();
        var current = await scope.ServiceProvider.GetRequiredService<TestDbContext>().Database
            .SqlQueryRaw<string>("SELECT message_id AS \"Value\" FROM inbox_messages_g1 WHERE consumer = {0}", consumer).ToListAsync();
        Assert.Equal(["new"], current);
        await older.RollbackAsync();
    }

    /// <summary>Four instances run the pass at once past the window: the generation moves on once, not four times.</summary>
    [Fact]
    public async Task PurgeAsync_FourInstancesAtOnce_RotateOnce()
    {
        var instances = Enumerable.Range(0, 4).Select(_ => CreateSut()).ToArray();
        try
        {
            await GenerationsSql.ResetAsync(instances[0]);
            await instances[0].PurgeAsync();
            foreach (var instance in instances)
            {
                instance.Time.Advance(Window);
            }

            await Task.WhenAll(instances.Select(i => i.PurgeAsync()));
            Assert.Equal(1, (await GenerationsSql.StateAsync(instances[0])).Generation);
            await GenerationsSql.SettleAsync(instances[0]);

            // Each instance now also passes on its own: still no rotation before generation 1 is a window old.
            foreach (var instance in instances)
            {
                await instance.PurgeAsync();
            }

            Assert.Equal((1, false), await GenerationsSql.StateAsync(instances[0]));
        }
        finally
        {
            foreach (var instance in instances)
            {
                await instance.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// The rotating connection dies in the middle of the switch (its backend terminated while it waits for the control
    /// row): the switch rolls back, consumers go on, and the next pass rotates.
    /// </summary>
    [Fact]
    public async Task PurgeAsync_RotatorKilledMidSwitch_LeavesAUsableTableAndTheNextPassRotates()
    {
        await using var sut = await StartAsync();
        var consumer = NewConsumer();
        Assert.Equal(InboxOutcome.Processed, await sut.ProcessAsync(consumer, "before"));
        sut.Time.Advance(Window);

        await using (var blocker = await OpenTransaction.BeginAsync(store.ConnectionString, HoldControlRow))
        {
            var pass = sut.PurgeAsync();
            var rotator = await WaitForLockWaitAsync(store.ConnectionString, "generation = generation + 1");
            Assert.Equal(true, await blocker.ScalarAsync("SELECT pg_terminate_backend($1)", rotator));

            await Assert.ThrowsAnyAsync<Exception>(() => pass.WaitAsync(Patience));
            await blocker.RollbackAsync();
        }

        NpgsqlConnection.ClearAllPools();
        await AssertUnchangedAndTheNextPassRotatesAsync(sut, consumer);
    }

    /// <summary>
    /// The purger's process is killed with SIGKILL while its switch waits for the control row (another session holds
    /// it). Once the row is free the dead client's transaction cannot commit: PostgreSQL rolls it back, the generation
    /// is unchanged, the inbox keeps working, and the next pass rotates.
    /// </summary>
    [Fact]
    public async Task PurgeAsync_PurgerProcessKilledMidSwitch_RollsBackAndTheNextPassRotates()
    {
        await using var sut = CreateSut();
        await GenerationsSql.ResetAsync(sut);
        sut.Time.SetUtcNow(DateTimeOffset.UtcNow);
        var consumer = NewConsumer();
        Assert.Equal(InboxOutcome.Processed, await sut.ProcessAsync(consumer, "before"));
        await using (var scope = sut.Services.CreateAsyncScope())
        {
            // Generation 0 began two windows ago by the system clock, which the worker goes by.
            await scope.ServiceProvider.GetRequiredService<TestDbContext>().Database.ExecuteSqlRawAsync(
                "UPDATE inbox_messages_generation SET started_at = now() - interval '2 hours'");
        }

        int rotator;
        await using (var blocker = await OpenTransaction.BeginAsync(store.ConnectionString, HoldControlRow))
        {
            using var worker = await WorkerProcess.StartAsync(typeof(RotatorWorker).Assembly, "rotator", store.ConnectionString);
            rotator = await WaitForLockWaitAsync(store.ConnectionString, "generation = generation + 1");
            worker.Kill();
            await blocker.RollbackAsync();
        }

        // The killed client's backend ends once its update has the row and it finds the connection gone.
        await WaitUntilAsync(async () => !await BackendAliveAsync(store.ConnectionString, rotator));
        await AssertUnchangedAndTheNextPassRotatesAsync(sut, consumer);
    }

    /// <summary>
    /// After a switch that did not happen: still generation 0, the inbox works ("before" known, "during" new), and the
    /// next pass rotates with both still known.
    /// </summary>
    private static async Task AssertUnchangedAndTheNextPassRotatesAsync(InboxHarness sut, string consumer)
    {
        Assert.Equal((0, false), await GenerationsSql.StateAsync(sut));
        Assert.Equal(InboxOutcome.Duplicate, await sut.ProcessAsync(consumer, "before"));
        Assert.Equal(InboxOutcome.Processed, await sut.ProcessAsync(consumer, "during"));

        await GenerationsSql.SettleAsync(sut);
        Assert.Equal((1, false), await GenerationsSql.StateAsync(sut));
        Assert.Equal(InboxOutcome.Duplicate, await sut.ProcessAsync(consumer, "before"));
        Assert.Equal(InboxOutcome.Duplicate, await sut.ProcessAsync(consumer, "during"));
    }

    private static async Task<bool> BackendAliveAsync(string connectionString, int pid)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = pid });
        return (long)(await command.ExecuteScalarAsync())! > 0;
    }

    /// <summary>
    /// Settling truncates the expired table and clears the flag in one transaction. If that transaction fails after the
    /// truncate (here: another session holds the control row, so the update runs into the lock timeout), the truncate
    /// rolls back with it: the records stay, the generation stays settling, and a later pass completes it.
    /// </summary>
    [Fact]
    public async Task PurgeAsync_SettleFailsAfterTheTruncate_RollsBackWholeAndALaterPassSettles()
    {
        await using var sut = await StartAsync(s => s.AddFakeLogging().AddLogging(b => b.SetMinimumLevel(LogLevel.Debug)));
        var logs = sut.Services.GetRequiredService<FakeLogCollector>();
        var consumer = NewConsumer();
        foreach (var id in new[] { "g0", "g1" })
        {
            await sut.ProcessAsync(consumer, id);
            sut.Time.Advance(Window);
            await GenerationsSql.SettleAsync(sut);
        }

        // Generation 2 is current; table 0 (generation 0) was emptied when it settled.
        Assert.Equal(new long[] { 0L, 1L, 0L }, await GenerationsSql.CountsAsync(sut));
        await sut.ProcessAsync(consumer, "g2");
        sut.Time.Advance(Window);

        // A transaction older than the switch to 3 keeps it settling.
        await using var older = await OpenTransaction.BeginAsync(store.ConnectionString, "SELECT pg_current_xact_id()");

        await sut.PurgeAsync();
        Assert.Equal((3, true), await GenerationsSql.StateAsync(sut));

        // Another session holds the control row, then the older transaction ends: the settle step truncates table 1
        // and then cannot update the row.
        await using var holder = await OpenTransaction.BeginAsync(store.ConnectionString, HoldControlRow);
        await older.RollbackAsync();
        await WaitUntilAsync(async () =>
        {
            await sut.PurgeAsync();
            return logs.GetSnapshot().Any(r => r.Id.Name == "GenerationTruncateBusy");
        });

        Assert.Equal(new long[] { 0L, 1L, 1L }, await GenerationsSql.CountsAsync(sut));
        Assert.Equal((3, true), await GenerationsSql.StateAsync(sut));

        await holder.RollbackAsync();
        await GenerationsSql.SettleAsync(sut);
        Assert.Equal(new long[] { 0L, 0L, 1L }, await GenerationsSql.CountsAsync(sut));
        Assert.Equal(InboxOutcome.Duplicate, await sut.ProcessAsync(consumer, "g2"));
    }

    /// <summary>
    /// The README's caveat: a transaction older than the switch holds settling up, and once a generation has waited
    /// longer than a window the purger says so at Warning. Deduplication meanwhile stays exact.
    /// </summary>
    [Fact]
    public async Task PurgeAsync_SettlingHeldUpLongerThanAWindow_WarnsAndStillDeduplicates()
    {
        await using var sut = await StartAsync(s => s.AddFakeLogging());
        var logs = sut.Services.GetRequiredService<FakeLogCollector>();
        var consumer = NewConsumer();
        await sut.ProcessAsync(consumer, "before");
        await using var older = await SettlingAsync(sut);
        Assert.DoesNotContain(logs.GetSnapshot(), r => r.Id.Name == "GenerationSettleSlow");

        sut.Time.Advance(Window + TimeSpan.FromMinutes(1));
        await sut.PurgeAsync();

        var warning = Assert.Single(logs.GetSnapshot(), r => r.Id.Name == "GenerationSettleSlow");
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Equal((1, true), await GenerationsSql.StateAsync(sut));
        Assert.Equal(InboxOutcome.Duplicate, await sut.ProcessAsync(consumer, "before"));
        await older.RollbackAsync();
        await GenerationsSql.SettleAsync(sut);
    }

    /// <summary>
    /// A pass waits for settling up to a tenth of the purge interval (100 ms here) on the injected clock: while the fake
    /// clock stands still the pass goes on waiting, however long the wall clock runs; once it has moved on, the pass ends.
    /// </summary>
    [Fact]
    public async Task PurgeAsync_WhileSettlingIsHeldUp_WaitsOnTheInjectedClock()
    {
        await using var sut = await StartAsync();
        await using var older = await SettlingAsync(sut);

        var pass = sut.PurgeAsync(driveClock: false);
        await Task.WhenAny(pass, Task.Delay(TimeSpan.FromSeconds(1)));
        Assert.False(pass.IsCompleted, "the pass stopped waiting for settling after 100 ms of the wall clock; the injected clock stood still");

        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (!pass.IsCompleted)
        {
            Assert.True(watch.Elapsed < Patience, "the pass went on waiting after its settle wait had passed on the injected clock");
            sut.Time.Advance(TimeSpan.FromMilliseconds(50));
            await Task.WhenAny(pass, Task.Delay(10));
        }

        await pass;
        Assert.Equal((1, true), await GenerationsSql.StateAsync(sut));
        await older.RollbackAsync();
        await GenerationsSql.SettleAsync(sut);
    }

    /// <summary>The previous generation is kept whole, so records up to two windows old are healthy; an overdue rotation is not.</summary>
    [Fact]
    public async Task HealthCheck_AfterRotationsOnTime_HealthyAndOnceOverdue_Degraded()
    {
        await using var sut = await StartAsync(s => s.AddHealthChecks().AddInbox<TestDbContext>());
        var health = sut.Services.GetRequiredService<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckService>();
        sut.Time.Advance(Window);
        await GenerationsSql.SettleAsync(sut);
        sut.Time.Advance(Window - TimeSpan.FromMinutes(1));

        // The oldest generation kept began almost two windows ago: on time.
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy, (await health.CheckHealthAsync()).Status);

        sut.Time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Degraded, (await health.CheckHealthAsync()).Status);
    }

    [Fact]
    public async Task StartAsync_GenerationsWithOneRoundTrip_FailsAndSaysWhy()
    {
        await using var sut = new InboxHarness(store, o => o.OneRoundTrip = true);
        var check = sut.Services.GetServices<IHostedService>().First(s => s.GetType().Name.StartsWith("InboxStartupCheck", StringComparison.Ordinal));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => check.StartAsync(CancellationToken.None));

        Assert.Contains("OneRoundTrip", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Model_WithGenerations_CreatesThreeTablesAndTheSeededControlRow()
    {
        await using var sut = CreateSut();
        await using var scope = sut.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TestDbContext>();

        var script = db.Database.GenerateCreateScript();

        Assert.Contains("CREATE TABLE inbox_messages_g0", script, StringComparison.Ordinal);
        Assert.Contains("CREATE TABLE inbox_messages_g2", script, StringComparison.Ordinal);
        Assert.Contains("CREATE TABLE inbox_messages_generation", script, StringComparison.Ordinal);
        Assert.Contains("INSERT INTO inbox_messages_generation", script, StringComparison.Ordinal);
        Assert.DoesNotContain("CREATE TABLE inbox_messages ", script, StringComparison.Ordinal);
    }

    /// <summary>Waits until a backend of this database waits for a lock while running a statement containing <paramref name="statement"/>; returns its PID.</summary>
    private static async Task<int> WaitForLockWaitAsync(string connectionString, string statement = "WITH c AS")
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND position($1 in query) > 0", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = statement });
        var result = await WaitUntilAsync(async () => await command.ExecuteScalarAsync() is int pid ? pid : (int?)null);
        return result;
    }

    private static async Task<T> WaitUntilAsync<T>(Func<Task<T?>> probe)
        where T : struct
    {
        using var patience = new CancellationTokenSource(Patience);
        while (true)
        {
            if (await probe() is { } value)
            {
                return value;
            }

            await Task.Delay(20, patience.Token);
        }
    }

    private static Task WaitUntilAsync(Func<Task<bool>> probe) => WaitUntilAsync(async () => await probe() ? true : (bool?)null);

    /// <summary>Another session's transaction, left open after its first statement until rolled back or disposed.</summary>
    private sealed class OpenTransaction : IAsyncDisposable
    {
        private readonly NpgsqlConnection _connection;
        private readonly NpgsqlTransaction _transaction;

        private OpenTransaction(NpgsqlConnection connection, NpgsqlTransaction transaction)
        {
            _connection = connection;
            _transaction = transaction;
        }

        public static async Task<OpenTransaction> BeginAsync(string connectionString, string sql)
        {
            var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            var open = new OpenTransaction(connection, await connection.BeginTransactionAsync());
            await open.ScalarAsync(sql);
            return open;
        }

        public async Task<object?> ScalarAsync(string sql, params object[] values)
        {
            await using var command = new NpgsqlCommand(sql, _connection, _transaction);
            foreach (var value in values)
            {
                command.Parameters.Add(new NpgsqlParameter { Value = value });
            }

            return await command.ExecuteScalarAsync();
        }

        public Task RollbackAsync() => _transaction.RollbackAsync();

        public async ValueTask DisposeAsync()
        {
            await _transaction.DisposeAsync();
            await _connection.DisposeAsync();
        }
    }
}
