using Inbox.Tests.Contract;
using Inbox.TestSupport;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Inbox.Tests.Purging;

/// <summary>
/// <see cref="InboxRetention.Generations"/> with the database server restarted at the worst moment: while a generation
/// settles and a unit recorded under the previous one is open. A PostgreSQL cluster of the test's own
/// (<see cref="PostgresServer"/>); the shared server is never touched.
/// </summary>
public sealed class PostgresGenerationsRestartTests : IAsyncLifetime
{
    private static readonly TimeSpan Window = TimeSpan.FromHours(1);
    private PostgresServer _server = null!;
    private ServerStore _store = null!;

    public async Task InitializeAsync()
    {
        _server = await PostgresServer.StartAsync();
        _store = new ServerStore(new NpgsqlConnectionStringBuilder(_server.ConnectionString) { ApplicationName = TestDbContext.GenerationsMarker }.ConnectionString);
        await _store.InitializeAsync();
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    /// <summary>
    /// Unit A records "m-1" under generation 0 and is open when generation 1 becomes current and starts settling; then
    /// the server stops (A's session is terminated and its transaction rolled back) and starts again. A is held by the
    /// store retry and runs a second time; a copy delivered afterwards is a duplicate. One effect, settling completes
    /// from the state it had before the restart, and the ID is still known afterwards.
    /// </summary>
    [Fact]
    public async Task ProcessAsync_ServerRestartedWhileSettlingWithAUnitOpen_OneEffectAndSettlingCompletes()
    {
        await using var sut = new InboxHarness(_store, o =>
        {
            o.DeduplicationWindow = Window;
            o.PurgeInterval = TimeSpan.FromSeconds(1);
        });
        await sut.PurgeAsync();
        var consumer = "restart";
        var recorded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var attempts = 0;
        var first = sut.ProcessAsync(consumer, "m-1", async (db, ct) =>
        {
            if (Interlocked.Increment(ref attempts) == 1)
            {
                recorded.SetResult();
                await release.Task;
            }

            await InboxHarness.WriteRow(consumer, "m-1")(db, ct);
        });
        await recorded.Task.WaitAsync(TimeSpan.FromSeconds(30));
        sut.Time.Advance(Window);
        await sut.PurgeAsync();
        Assert.Equal((1, true), await GenerationsSql.StateAsync(sut));

        await _server.RestartAsync(TimeSpan.FromSeconds(1));
        release.SetResult();
        NpgsqlConnection.ClearAllPools();

        // The store retry backs off on the test's clock: move it on until A is through.
        Assert.Equal(InboxOutcome.Processed, await sut.AdvancingClockAsync(first));
        Assert.Equal(2, attempts);
        Assert.Equal(InboxOutcome.Duplicate, await sut.ProcessAsync(consumer, "m-1"));
        Assert.Equal(new Dictionary<string, int> { ["m-1"] = 1 }, await sut.BusinessRowsAsync(consumer));

        await GenerationsSql.SettleAsync(sut);
        Assert.False((await GenerationsSql.StateAsync(sut)).Settling);
        Assert.Equal(InboxOutcome.Duplicate, await sut.ProcessAsync(consumer, "m-1"));
    }

    /// <summary>The test's own server, with the generations model created on it.</summary>
    private sealed class ServerStore(string connectionString) : StoreFixture
    {
        public override bool Generations => true;

        public override void Configure(DbContextOptionsBuilder options)
            => options.UseNpgsql(connectionString).ReplaceService<Microsoft.EntityFrameworkCore.Infrastructure.IModelCacheKeyFactory, RetentionModelCacheKeys>();

        public override Task InitializeAsync() => CreateSchemaAsync();

        public override Task DisposeAsync() => Task.CompletedTask;
    }
}
