using Inbox.Testing;
using Microsoft.EntityFrameworkCore;
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
        await Task.Delay(300);
        using var second = await api.PayAsync(request, "key-slow");
        using var original = await first;
        using var third = await api.PayAsync(request, "key-slow");

        Assert.Equal(System.Net.HttpStatusCode.Conflict, second.StatusCode);
        Assert.NotNull(second.Headers.RetryAfter);
        Assert.Equal(System.Net.HttpStatusCode.Created, original.StatusCode);
        Assert.Equal(["true"], third.Headers.GetValues("Idempotent-Replayed"));
        Assert.Equal(1, await api.PaymentCountAsync());
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
