using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Inbox.Tool.Tests.Support;

/// <summary>The application side of a tool test: its services on one database, its tables, and what it has done.</summary>
public sealed class Shop : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private Shop(string provider, string connectionString)
    {
        Provider = provider;
        ConnectionString = connectionString;
        var services = new ServiceCollection();
        services.AddDbContext<ShopDbContext>(o =>
        {
            if (provider == "postgresql")
            {
                o.UseNpgsql(connectionString);
            }
            else
            {
                o.UseSqlite(connectionString);
            }
        });
        services.AddInbox<ShopDbContext>();
        services.AddOutbox<ShopDbContext>(o => o.AddTransport("kafka", _ => throw new InvalidOperationException("not dispatched in these tests")));
        _services = services.BuildServiceProvider();
    }

    public string Provider { get; }

    public string ConnectionString { get; }

    /// <summary>The options that tell the tool where the tables are.</summary>
    public string[] Database =>
        ["--connection", ConnectionString, "--inbox-table", ShopDbContext.InboxTable, "--outbox-table", ShopDbContext.OutboxTable, "--keys-table", ShopDbContext.KeysTable];

    public static async Task<Shop> CreateAsync(string provider, string connectionString)
    {
        var shop = new Shop(provider, connectionString);
        await shop.QueryAsync(db => db.Database.EnsureCreatedAsync());
        return shop;
    }

    /// <summary>Delivers a message to a consumer through the inbox: an order per message ID that runs.</summary>
    public async Task<InboxOutcome> DeliverAsync(string consumer, string messageId)
    {
        await using var scope = _services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<IInbox<ShopDbContext>>().ProcessAsync(consumer, new InboxMessage(messageId), (db, _) =>
        {
            db.Orders.Add(new Order { MessageId = messageId });
            return Task.CompletedTask;
        });
    }

    /// <summary>Writes an outbox message and, when <paramref name="failed"/>, marks it as the dispatcher does after MaxAttempts refusals.</summary>
    public async Task<string> WriteOutboxAsync(string destination, bool failed)
    {
        await using var scope = _services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ShopDbContext>();
        var id = db.Outbox().Add(new OutboxMessage("kafka", destination, Encoding.UTF8.GetBytes("{}")) { PartitionKey = "k" });
        await db.SaveChangesAsync();
        if (failed)
        {
            var sql = $"UPDATE {ShopDbContext.OutboxTable} SET failed_at = {(Provider == "postgresql" ? "now()" : "'2026-12-02 00:00:00+00:00'")}, " +
                "attempts = 5, last_error = {0} WHERE message_id = {1}";
            await db.Database.ExecuteSqlRawAsync(sql, $"UnknownTopicOrPart: {destination}", id);
        }

        return id;
    }

    public async Task<T> QueryAsync<T>(Func<ShopDbContext, Task<T>> query)
    {
        await using var scope = _services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<ShopDbContext>());
    }

    /// <summary>Whether the outbox message is there, and whether it is kept as failed.</summary>
    public Task<(bool Exists, bool Failed)> OutboxStateAsync(string messageId) => QueryAsync(async db =>
    {
        var rows = await db.Database.SqlQueryRaw<int>($"SELECT CASE WHEN failed_at IS NULL THEN 0 ELSE 1 END AS \"Value\" FROM {ShopDbContext.OutboxTable} WHERE message_id = {{0}}", messageId).ToListAsync();
        return (rows.Count == 1, rows.SingleOrDefault() == 1);
    });

    public ValueTask DisposeAsync() => _services.DisposeAsync();
}
