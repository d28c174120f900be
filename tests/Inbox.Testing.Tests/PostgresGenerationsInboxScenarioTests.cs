using Inbox.Testing.Tests.Support;
using Inbox.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace Inbox.Testing.Tests;

/// <summary>
/// The kit on PostgreSQL with the inbox kept by generations: the generations' tables (records and control row) are the
/// inbox's own and never count as an effect; every check holds as with one table.
/// </summary>
public sealed class PostgresGenerationsInboxScenarioTests(ITestOutputHelper output) : InboxScenarioContract(output)
{
    private PostgresDatabase? _database;

    protected override Action<DbContextOptionsBuilder> Database
        => o => o.UseNpgsql(_database!.ConnectionString + ";Application Name=" + ShopDbContext.GenerationsMarker).ReplaceService<IModelCacheKeyFactory, ShopModelCacheKeys>();

    public override async Task InitializeAsync() => _database = await PostgresDatabase.CreateAsync("inbox_kit_gen");

    public override async Task DisposeAsync() => await _database!.DisposeAsync();
}
