using Inbox.Tests.Contract;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Inbox.Tests.Model;

public sealed class InboxModelBuilderExtensionsTests(PostgresStoreFixture store) : IClassFixture<PostgresStoreFixture>
{
    [Fact]
    public void AddInbox_NullModelBuilder_ThrowsWithParameterName()
    {
        var error = Assert.Throws<ArgumentNullException>(() => InboxModelBuilderExtensions.AddInbox(null!));

        Assert.Equal("modelBuilder", error.ParamName);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("a\u0000b")]
    [InlineData("a_name_that_is_longer_than_sixty_three_characters_which_postgres_cuts")]
    public void AddInbox_BadTableName_ThrowsNamingTheOption(string name)
    {
        var error = Assert.Throws<ArgumentException>(() => new ModelBuilder().AddInbox(t => t.TableName = name));

        Assert.Equal("TableName", error.ParamName);
    }

    [Fact]
    public void AddInbox_DefaultModel_HasTheDocumentedTableKeyAndIndex()
    {
        var options = new DbContextOptionsBuilder<TestDbContext>().UseNpgsql("Host=unused").Options;
        using var db = new TestDbContext(options);

        var entity = db.Model.GetEntityTypes().Single(e => e.GetTableName() == "inbox_messages");

        Assert.Equal(["consumer", "message_id"], entity.FindPrimaryKey()!.Properties.Select(p => p.GetColumnName()));
        Assert.Contains(entity.GetIndexes(), i => i.Properties.Single().GetColumnName() == "processed_at");
        Assert.Equal("timestamp with time zone", entity.FindProperty("ProcessedAt")!.GetColumnType());
        Assert.Equal("bytea", entity.FindProperty("Fingerprint")!.GetColumnType());
    }

    [Fact]
    public async Task ProcessAsync_CustomSchemaAndTableNameWithQuotes_QuotesIdentifiersAndWorks()
    {
        // A name that would break SQL if it were spliced in raw.
        Action<InboxTableOptions> table = t =>
        {
            t.Schema = "billing";
            t.TableName = "in\"box; drop";
        };
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddDbContext<TestDbContext>(o => o.UseNpgsql(store.ConnectionString)
            .ReplaceService<Microsoft.EntityFrameworkCore.Infrastructure.IModelCacheKeyFactory, PerTableModelCacheKeyFactory>());
        services.AddScoped(sp => new TestDbContext(sp.GetRequiredService<DbContextOptions<TestDbContext>>(), table));
        services.AddInbox<TestDbContext>();
        await using var provider = services.BuildServiceProvider();
        await using (var scope = provider.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<TestDbContext>();
            await db.Database.ExecuteSqlRawAsync("CREATE SCHEMA IF NOT EXISTS billing");
            await db.Database.ExecuteSqlRawAsync(
                "CREATE TABLE billing.\"in\"\"box; drop\" (consumer text NOT NULL, message_id text NOT NULL, processed_at timestamptz NOT NULL, fingerprint bytea, PRIMARY KEY (consumer, message_id))");
        }

        async Task<InboxOutcome> ProcessAsync()
        {
            await using var scope = provider.CreateAsyncScope();
            return await scope.ServiceProvider.GetRequiredService<IInbox<TestDbContext>>()
                .ProcessAsync("custom", "m-1", InboxHarness.WriteRow("custom", "m-1"));
        }

        Assert.Equal(InboxOutcome.Processed, await ProcessAsync());
        Assert.Equal(InboxOutcome.Duplicate, await ProcessAsync());
        await using var connection = new NpgsqlConnection(store.ConnectionString);
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand("SELECT count(*) FROM billing.\"in\"\"box; drop\"", connection);
        Assert.Equal(1L, await count.ExecuteScalarAsync());
    }

    [Fact]
    public void Dialect_GenerationsOnSqlite_FailsAndSaysWhatToDo()
    {
        var options = new DbContextOptionsBuilder<TestDbContext>().UseSqlite("Data Source=:memory:")
            .ReplaceService<Microsoft.EntityFrameworkCore.Infrastructure.IModelCacheKeyFactory, GenerationsModelCacheKeyFactory>().Options;
        using var db = new TestDbContext(options, t => t.Retention = InboxRetention.Generations);

        var error = Assert.Throws<InvalidOperationException>(() => Inbox.Storage.InboxDialects.For(db));

        Assert.Contains("needs PostgreSQL", error.Message, StringComparison.Ordinal);
        Assert.Contains("Retention at Delete", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddInbox_GenerationsWithATableNameTooLongForTheControlTable_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => new ModelBuilder().AddInbox(t =>
        {
            t.TableName = new string('t', 53);
            t.Retention = InboxRetention.Generations;
        }));

        Assert.Contains("at most 52", error.Message, StringComparison.Ordinal);
    }

    private sealed class GenerationsModelCacheKeyFactory : Microsoft.EntityFrameworkCore.Infrastructure.IModelCacheKeyFactory
    {
        public object Create(DbContext context, bool designTime) => (context.GetType(), "generations-sqlite", designTime);
    }

    /// <summary>EF caches one model per context type; this test's context has another table, so another key.</summary>
    private sealed class PerTableModelCacheKeyFactory : Microsoft.EntityFrameworkCore.Infrastructure.IModelCacheKeyFactory
    {
        public object Create(DbContext context, bool designTime) => (context.GetType(), "custom-table", designTime);
    }
}
