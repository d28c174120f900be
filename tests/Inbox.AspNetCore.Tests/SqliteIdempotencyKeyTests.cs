using Inbox.TestSupport;
using Microsoft.EntityFrameworkCore;

namespace Inbox.AspNetCore.Tests;

public sealed class SqliteIdempotencyKeyTests : IdempotencyKeyContract
{
    private readonly SqliteDatabase _database = new();

    protected override Action<DbContextOptionsBuilder> Database => o => o.UseSqlite(_database.ConnectionString);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _database.Dispose();
    }
}
