using Inbox.Tests.Contract;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Inbox.Tests.Outbox;

/// <summary>PostgreSQL only: several dispatchers, a dispatcher killed mid-batch, and commit order across transactions.</summary>
public sealed class PostgresOutboxDispatchTests(PostgresOutboxStoreFixture store) : IClassFixture<PostgresOutboxStoreFixture>
{
    [Fact]
    public async Task TwoDispatchersOnOneTable_NoMessageSentTwice_NoneLost_EachKeyInOrder()
    {
        var first = new FakeTransport();
        var second = new FakeTransport();
        await using var a = CreateSut(first);
        await using var b = CreateSut(second);
        var written = new List<(string Key, string Id, int Sequence)>();
        for (var t = 0; t < 40; t++)
        {
            await using var scope = a.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<TestDbContext>();
            for (var i = 0; i < 50; i++)
            {
                var key = $"key-{(t * 50 + i) % 20}";
                written.Add((key, db.Outbox().Add(Message(key, $"{t * 50 + i:D5}")), t * 50 + i));
            }

            await db.SaveChangesAsync();
        }

        // While the first holds its lanes mid-send, the second does not wait for them: it finds nothing of its own to do.
        var holding = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        first.Hold = () =>
        {
            holding.TrySetResult();
            return release.Task;
        };
        var held = a.DispatchAsync();
        await holding.Task;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.False(await b.DispatchAsync());
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"the second dispatcher waited {watch.Elapsed} on the first one's lanes");
        Assert.Empty(second.Sent);
        first.Hold = null;
        release.SetResult();
        await held;

        await Task.WhenAll(DrainAsync(a), DrainAsync(b));

        var sent = first.Sent.Concat(second.Sent).OrderBy(s => s.Sequence).ToList();
        Assert.Equal(written.Count, sent.Count);
        Assert.Equal(written.Select(w => w.Id).Order(), sent.Select(s => s.MessageId).Order());
        foreach (var key in sent.GroupBy(s => s.Key))
        {
            var bodies = key.Select(s => s.Body).ToList();
            Assert.Equal(bodies.Order(StringComparer.Ordinal), bodies);
        }
    }

    [Fact]
    public async Task DispatcherKilledMidBatch_AnotherSendsItsMessagesUnderTheSameIds()
    {
        var doomed = new FakeTransport();
        var survivor = new FakeTransport();
        await using var a = CreateSut(doomed);
        await using var b = CreateSut(survivor);
        var ids = new List<string>();
        await using (var scope = a.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<TestDbContext>();
            for (var i = 0; i < 30; i++)
            {
                ids.Add(db.Outbox().Add(Message($"key-{i % 3}", $"{i:D3}")));
            }

            await db.SaveChangesAsync();
        }

        // The first dispatcher has handed the batch to its broker and dies before deleting it: its connection goes.
        var inFlight = new TaskCompletionSource();
        var never = new TaskCompletionSource();
        doomed.Hold = () =>
        {
            inFlight.TrySetResult();
            return never.Task;
        };
        var dying = a.DispatchAsync();
        await inFlight.Task;
        await TerminateIdleTransactionsAsync();
        never.SetResult();
        await Assert.ThrowsAnyAsync<Exception>(() => dying);

        await DrainAsync(b);

        Assert.Equal(ids.Order(), doomed.Sent.Select(s => s.MessageId).Order());
        Assert.Equal(ids.Order(), survivor.Sent.Select(s => s.MessageId).Order());
        Assert.Empty(await a.OutboxRowsAsync());
    }

    [Fact]
    public async Task SameKeyInTwoTransactions_TheSecondWaitsForTheFirstsCommit_OtherKeysDoNot_SentInCommitOrder()
    {
        var transport = new FakeTransport();
        await using var sut = CreateSut(transport);
        await using var firstScope = sut.Services.CreateAsyncScope();
        var firstDb = firstScope.ServiceProvider.GetRequiredService<TestDbContext>();
        await using var first = await firstDb.Database.BeginTransactionAsync();
        firstDb.Outbox().Add(Message("K", "first"));
        await firstDb.SaveChangesAsync();

        // Another key is not held up by the open transaction.
        await WriteAsync(sut, "J", "other key");

        // The same key waits on the first transaction's key lock, so its row cannot be numbered before the first commits.
        var second = WriteAsync(sut, "K", "second");
        await WaitUntilABackendWaitsOnALockAsync();
        Assert.False(second.IsCompleted);
        await first.CommitAsync();
        await second;

        await DrainAsync(sut);
        Assert.Equal(["first", "second"], transport.Sent.Where(s => s.Key == "K").OrderBy(s => s.Sequence).Select(s => s.Body));
        Assert.Contains(transport.Sent, s => s.Body == "other key");
    }

    /// <summary>
    /// Under a retrying execution strategy, a SaveChanges outside a transaction writes its outbox rows in a transaction
    /// of its own; the server drops the connection after the rows went in and before the commit. The strategy runs the
    /// save again, and the rows, handed back to the change tracker, go in again: each row and the business row once.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task SaveChanges_ConnectionDroppedBeforeTheCommitUnderARetryingStrategy_SavedOnceOnTheRetry(bool async)
    {
        var transport = new FakeTransport();
        var killer = new KillOnce("INSERT INTO business_rows");
        await using var sut = new InboxHarness(
            store,
            db: o => o.UseNpgsql(store.ConnectionString, npgsql => npgsql.EnableRetryOnFailure(3, TimeSpan.FromMilliseconds(50), null)).AddInterceptors(killer),
            more: s => s.AddOutbox<TestDbContext>(o => o.AddTransport("fake", _ => transport)));
        var note = Guid.NewGuid().ToString("N");
        List<string> ids;
        await using (var scope = sut.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<TestDbContext>();
            ids = [db.Outbox().Add(Message("k", "first")), db.Outbox().Add(Message("k", "second"))];
            db.Rows.Add(new BusinessRow { Consumer = "retried-save", MessageId = note });
            if (async)
            {
                await db.SaveChangesAsync();
            }
            else
            {
                db.SaveChanges();
            }
        }

        Assert.Equal(1, killer.Kills);
        await DrainAsync(sut);
        Assert.Equal(ids, transport.Sent.Where(s => ids.Contains(s.MessageId)).Select(s => s.MessageId));
        await using var check = sut.Services.CreateAsyncScope();
        Assert.Equal(1, await check.ServiceProvider.GetRequiredService<TestDbContext>().Rows.CountAsync(r => r.MessageId == note));
    }

    private static OutboxMessage Message(string key, string body) => new("fake", "orders", System.Text.Encoding.UTF8.GetBytes(body)) { PartitionKey = key };

    private static async Task WriteAsync(InboxHarness sut, string key, string body)
    {
        await using var scope = sut.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TestDbContext>();
        db.Outbox().Add(Message(key, body));
        await db.SaveChangesAsync();
    }

    private static async Task DrainAsync(InboxHarness sut)
    {
        // Another dispatcher may hold every lane for a moment: look again until a dispatch finds nothing anywhere.
        for (var idle = 0; idle < 3;)
        {
            idle = await sut.DispatchAsync() ? 0 : idle + 1;
            if (idle > 0 && (await sut.OutboxRowsAsync()).Any(r => r.FailedAt == null))
            {
                idle = 0;
                await Task.Delay(5);
            }
        }
    }

    private async Task TerminateIdleTransactionsAsync()
    {
        await using var admin = new NpgsqlConnection(store.ConnectionString);
        await admin.OpenAsync();
        await using var kill = new NpgsqlCommand(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction' AND pid <> pg_backend_pid()",
            admin);
        Assert.Equal(1L, await kill.ExecuteScalarAsync());
    }

    private async Task WaitUntilABackendWaitsOnALockAsync()
    {
        await using var admin = new NpgsqlConnection(store.ConnectionString);
        await admin.OpenAsync();
        await using var waiting = new NpgsqlCommand(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'",
            admin);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while ((long)(await waiting.ExecuteScalarAsync())! == 0)
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), "the second writer never waited on the key lock");
            await Task.Delay(10);
        }
    }

    private InboxHarness CreateSut(FakeTransport transport) => new(store, more: s => s.AddOutbox<TestDbContext>(o => o.AddTransport("fake", _ => transport)));

    /// <summary>Drops its own connection, once, in place of the first command that starts with <c>prefix</c>: a 57P01, as from a server restart.</summary>
    private sealed class KillOnce(string prefix) : Microsoft.EntityFrameworkCore.Diagnostics.DbCommandInterceptor
    {
        private int _kills;

        public int Kills => _kills;

        public override Microsoft.EntityFrameworkCore.Diagnostics.InterceptionResult<System.Data.Common.DbDataReader> ReaderExecuting(
            System.Data.Common.DbCommand command, Microsoft.EntityFrameworkCore.Diagnostics.CommandEventData eventData, Microsoft.EntityFrameworkCore.Diagnostics.InterceptionResult<System.Data.Common.DbDataReader> result)
        {
            Kill(command);
            return result;
        }

        public override ValueTask<Microsoft.EntityFrameworkCore.Diagnostics.InterceptionResult<System.Data.Common.DbDataReader>> ReaderExecutingAsync(
            System.Data.Common.DbCommand command, Microsoft.EntityFrameworkCore.Diagnostics.CommandEventData eventData, Microsoft.EntityFrameworkCore.Diagnostics.InterceptionResult<System.Data.Common.DbDataReader> result, CancellationToken cancellationToken = default)
        {
            Kill(command);
            return ValueTask.FromResult(result);
        }

        private void Kill(System.Data.Common.DbCommand command)
        {
            if (command.CommandText.TrimStart().StartsWith(prefix, StringComparison.OrdinalIgnoreCase) && Interlocked.CompareExchange(ref _kills, 1, 0) == 0)
            {
                command.CommandText = "SELECT pg_terminate_backend(pg_backend_pid())";
            }
        }
    }
}
