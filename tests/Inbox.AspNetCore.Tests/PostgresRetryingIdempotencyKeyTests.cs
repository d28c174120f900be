using Microsoft.EntityFrameworkCore;

namespace Inbox.AspNetCore.Tests;

/// <summary>
/// The contract on PostgreSQL under Npgsql's retrying execution strategy (<c>EnableRetryOnFailure</c>), as many
/// applications run it: keys, replays, the purger and the endpoint's outbox messages all work with it on.
/// </summary>
public sealed class PostgresRetryingIdempotencyKeyTests(PostgresIdempotencyKeyTests.ClassDatabase database)
    : IdempotencyKeyContract, IClassFixture<PostgresIdempotencyKeyTests.ClassDatabase>
{
    protected override Action<DbContextOptionsBuilder> Database => o => o.UseNpgsql(database.ConnectionString, npgsql => npgsql.EnableRetryOnFailure());

    public override Task InitializeAsync() => database.EmptyAsync();
}
