using Inbox.TestSupport;
using Microsoft.EntityFrameworkCore;

namespace Inbox.Tests.Contract;

/// <summary>One database per test class, with the schema created.</summary>
public abstract class StoreFixture : IAsyncLifetime
{
    public abstract void Configure(DbContextOptionsBuilder options);

    /// <summary>Whether the inbox keeps its records by generations: three tables instead of one.</summary>
    public virtual bool Generations => false;

    public abstract Task InitializeAsync();

    public abstract Task DisposeAsync();

    protected async Task CreateSchemaAsync()
    {
        var builder = new DbContextOptionsBuilder<TestDbContext>();
        Configure(builder);
        await using var db = new TestDbContext(builder.Options);
        await db.Database.EnsureCreatedAsync();
    }
}

public class SqliteStoreFixture : StoreFixture
{
    private readonly SqliteDatabase _database = new();

    public override void Configure(DbContextOptionsBuilder options) => options.UseSqlite(_database.ConnectionString);

    public override async Task InitializeAsync()
    {
        await CreateSchemaAsync();
        var builder = new DbContextOptionsBuilder<TestDbContext>();
        Configure(builder);
        await using var db = new TestDbContext(builder.Options);
        await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;");
    }

    public override Task DisposeAsync()
    {
        _database.Dispose();
        return Task.CompletedTask;
    }
}

public class PostgresStoreFixture : StoreFixture
{
    private PostgresDatabase? _database;

    public virtual string ConnectionString => _database!.ConnectionString;

    public override void Configure(DbContextOptionsBuilder options) => options.UseNpgsql(ConnectionString);

    public override async Task InitializeAsync()
    {
        _database = await PostgresDatabase.CreateAsync();
        await CreateSchemaAsync();
    }

    public override async Task DisposeAsync()
    {
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }
}

/// <summary>A database of its own for the outbox tests: every test there drains the whole table.</summary>
public sealed class SqliteOutboxStoreFixture : SqliteStoreFixture;

/// <summary>A database of its own for the outbox tests: every test there drains the whole table.</summary>
public sealed class PostgresOutboxStoreFixture : PostgresStoreFixture;

/// <summary>
/// PostgreSQL under Npgsql's retrying execution strategy (<c>EnableRetryOnFailure</c>), as many applications run it:
/// EF Core then refuses a transaction that is not opened inside <c>CreateExecutionStrategy().ExecuteAsync</c>.
/// </summary>
public class PostgresRetryingStoreFixture : PostgresStoreFixture
{
    public override void Configure(DbContextOptionsBuilder options)
        => options.UseNpgsql(ConnectionString, npgsql => npgsql.EnableRetryOnFailure());
}

/// <summary>A database of its own for the outbox tests under the retrying execution strategy.</summary>
public sealed class PostgresRetryingOutboxStoreFixture : PostgresRetryingStoreFixture;

/// <summary>PostgreSQL with the inbox kept by generations (<see cref="InboxRetention.Generations"/>).</summary>
public class PostgresGenerationsStoreFixture : PostgresStoreFixture
{
    public override bool Generations => true;

    public override string ConnectionString => base.ConnectionString + ";Application Name=" + TestDbContext.GenerationsMarker;

    public override void Configure(DbContextOptionsBuilder options)
        => options.UseNpgsql(ConnectionString, Npgsql).ReplaceService<Microsoft.EntityFrameworkCore.Infrastructure.IModelCacheKeyFactory, RetentionModelCacheKeys>();

    /// <summary>Npgsql's own options: none here.</summary>
    protected virtual void Npgsql(Npgsql.EntityFrameworkCore.PostgreSQL.Infrastructure.NpgsqlDbContextOptionsBuilder npgsql)
    {
    }
}

/// <summary>Generations under Npgsql's retrying execution strategy (<c>EnableRetryOnFailure</c>).</summary>
public sealed class PostgresRetryingGenerationsStoreFixture : PostgresGenerationsStoreFixture
{
    protected override void Npgsql(Npgsql.EntityFrameworkCore.PostgreSQL.Infrastructure.NpgsqlDbContextOptionsBuilder npgsql) => npgsql.EnableRetryOnFailure();
}
