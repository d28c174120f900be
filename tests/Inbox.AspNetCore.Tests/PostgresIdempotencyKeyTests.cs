using System.Data.Common;
using Inbox.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Npgsql;

namespace Inbox.AspNetCore.Tests;

/// <summary>
/// The contract on PostgreSQL: one database for the class (its tests run one after another), emptied before each test,
/// which is quicker than a database per test.
/// </summary>
public sealed class PostgresIdempotencyKeyTests(PostgresIdempotencyKeyTests.ClassDatabase database)
    : IdempotencyKeyContract, IClassFixture<PostgresIdempotencyKeyTests.ClassDatabase>
{
    protected override Action<DbContextOptionsBuilder> Database => o => o.UseNpgsql(database.ConnectionString);

    public override Task InitializeAsync() => database.EmptyAsync();

    [Fact]
    public async Task InFlightLongerThanTheWait_409WithRetryAfter_ThenTheReplay()
    {
        var api = await CreateSut(o => o.InFlightWait = TimeSpan.FromMilliseconds(100));
        var request = new Support.PaymentRequest("order-slow", 40, DelayMs: 1_500);

        var first = api.PayAsync(request, "key-slow");
        await api.Faults.WrittenAsync("order-slow");
        using var second = await api.PayAsync(request, "key-slow");
        using var original = await first;
        using var third = await api.PayAsync(request, "key-slow");

        Assert.Equal(System.Net.HttpStatusCode.Conflict, second.StatusCode);
        Assert.NotNull(second.Headers.RetryAfter);
        Assert.Equal(System.Net.HttpStatusCode.Created, original.StatusCode);
        Assert.Equal(["true"], third.Headers.GetValues("Idempotent-Replayed"));
        Assert.Equal(1, await api.PaymentCountAsync());
    }

    [Fact]
    public async Task KeyPurgedBetweenTheInsertAndTheRead_IsANewRequest_NotA409()
    {
        var purger = new PurgeBeforeTheKeyIsRead(database.ConnectionString);
        var api = await CreateSut(database: o => o.AddInterceptors(purger));
        var request = new Support.PaymentRequest("order-purged", 10);
        using var first = await api.PayAsync(request, "key-purged");

        // The second request's insert finds the key; the purger deletes it before the request reads it.
        purger.Armed = true;
        using var second = await api.PayAsync(request, "key-purged");

        Assert.Equal(1, purger.Deleted);
        Assert.Equal(System.Net.HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.Created, second.StatusCode);
        Assert.False(second.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(2, await api.PaymentCountAsync());
        Assert.Equal(1, await api.KeyCountAsync());
    }

    /// <summary>
    /// Once armed, deletes every key on a connection of its own just before the next read of the key table: what the
    /// purger does to an expired key in the instant between a request's insert (which found it) and its read.
    /// </summary>
    private sealed class PurgeBeforeTheKeyIsRead(string connectionString) : DbCommandInterceptor
    {
        private int _armed;

        public bool Armed { set => Volatile.Write(ref _armed, value ? 1 : 0); }

        public int Deleted { get; private set; }

        public override async ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(
            DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
        {
            if (command.CommandText.Contains("idempotency_keys", StringComparison.Ordinal) && Interlocked.Exchange(ref _armed, 0) == 1)
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync(cancellationToken);
                await using var delete = new NpgsqlCommand("DELETE FROM idempotency_keys", connection);
                Deleted = await delete.ExecuteNonQueryAsync(cancellationToken);
            }

            return result;
        }
    }

    public sealed class ClassDatabase : IAsyncLifetime
    {
        private PostgresDatabase? _database;

        public string ConnectionString => _database!.ConnectionString;

        public async Task InitializeAsync() => _database = await PostgresDatabase.CreateAsync("inbox_http");

        public async Task EmptyAsync()
        {
            await using var connection = new NpgsqlConnection(ConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(
                "DO $$ BEGIN IF to_regclass('\"Payments\"') IS NOT NULL THEN TRUNCATE \"Payments\", idempotency_keys, inbox_messages, outbox_messages RESTART IDENTITY; END IF; END $$",
                connection);
            await command.ExecuteNonQueryAsync();
        }

        public async Task DisposeAsync() => await _database!.DisposeAsync();
    }
}
