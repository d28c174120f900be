using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Inbox.Benchmarks.Scenarios;

/// <summary>A database of the benchmark's own, a service provider on it, and the counters that pg_stat_statements keeps.</summary>
public sealed class PostgresBench : IAsyncDisposable
{
    private readonly Inbox.TestSupport.PostgresDatabase _database;

    private readonly bool _generations;

    private PostgresBench(Inbox.TestSupport.PostgresDatabase database, ServiceProvider services, bool generations)
    {
        _database = database;
        Services = services;
        _generations = generations;
    }

    public ServiceProvider Services { get; }

    public string ConnectionString => _database.ConnectionString + (_generations ? ";Application Name=" + BenchDbContext.GenerationsMarker : "");

    /// <param name="configure">The inbox options.</param>
    /// <param name="configureServices">More services on the same provider, e.g. a MassTransit bus.</param>
    /// <param name="retention">How the inbox's model keeps records.</param>
    public static async Task<PostgresBench> CreateAsync(Action<InboxOptions>? configure = null, Action<IServiceCollection>? configureServices = null, InboxRetention retention = InboxRetention.Delete)
    {
        var database = await Inbox.TestSupport.PostgresDatabase.CreateAsync("inbox_bench");
        var generations = retention == InboxRetention.Generations;
        var connectionString = database.ConnectionString + (generations ? ";Application Name=" + BenchDbContext.GenerationsMarker : "");
        var services = new ServiceCollection();
        services.AddDbContext<BenchDbContext>(o => o.UseNpgsql(connectionString)
            .ReplaceService<Microsoft.EntityFrameworkCore.Infrastructure.IModelCacheKeyFactory, BenchModelCacheKeys>());
        services.AddInbox<BenchDbContext>(configure);
        configureServices?.Invoke(services);
        var provider = services.BuildServiceProvider();
        await using (var scope = provider.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<BenchDbContext>().Database.EnsureCreatedAsync();
        }

        var bench = new PostgresBench(database, provider, generations);
        await bench.ExecuteAsync("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
        return bench;
    }

    /// <summary>Empties the tables and this database's statement counters (only this one's: other benchmarks may share the server).</summary>
    public Task ResetAsync() => ExecuteAsync(
        $"TRUNCATE orders, {(_generations ? "inbox_messages_g0, inbox_messages_g1, inbox_messages_g2" : "inbox_messages")}, outbox_messages, idempotency_keys, inbox_kafka_offsets; " +
        "SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0);");

    public Task<long> CountOrdersAsync() => ScalarAsync<long>("SELECT count(*) FROM orders");

    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>
    /// Statements executed in this database since the last reset, and how many of them began or ended a transaction.
    /// Npgsql's reset of a pooled connection (DISCARD ALL, or CLOSE ALL, RESET ALL and the rest when the connection
    /// keeps prepared statements) rides with the next statement and is left out.
    /// </summary>
    public async Task<(long Statements, long Begins, long Commits)> StatementsAsync()
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT coalesce(sum(calls), 0)::bigint, " +
            "coalesce(sum(calls) FILTER (WHERE query ILIKE 'BEGIN%' OR query ILIKE 'START TRANSACTION%'), 0)::bigint, " +
            "coalesce(sum(calls) FILTER (WHERE query ILIKE 'COMMIT%'), 0)::bigint " +
            "FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) " +
            "AND query NOT ILIKE '%pg_stat_statements%' AND query NOT ILIKE 'TRUNCATE%' AND query NOT ILIKE 'DISCARD%' " +
            "AND query NOT ILIKE 'CLOSE ALL%' AND query NOT ILIKE 'RESET ALL%' AND query NOT ILIKE 'UNLISTEN%' " +
            "AND query NOT ILIKE 'SET SESSION AUTHORIZATION DEFAULT%' AND query NOT ILIKE '%pg_advisory_unlock_all%'",
            connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 600 };
        await command.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        await _database.DisposeAsync();
    }
}
