using Inbox.AspNetCore.Tests.Support;
using Inbox.Testing;
using Microsoft.EntityFrameworkCore;

namespace Inbox.AspNetCore.Tests;

public sealed class PostgresIdempotencyKeyTests : IdempotencyKeyContract
{
    private PostgresDatabase? _database;

    protected override Action<DbContextOptionsBuilder> Database => o => o.UseNpgsql(_database!.ConnectionString);

    public override async Task InitializeAsync() => _database = await PostgresDatabase.CreateAsync("inbox_http");

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _database!.DisposeAsync();
    }
}
