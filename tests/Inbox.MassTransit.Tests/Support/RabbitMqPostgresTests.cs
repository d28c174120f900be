using Inbox.TestSupport;

namespace Inbox.MassTransit.Tests.Support;

/// <summary>
/// A test class on the shared RabbitMQ and a PostgreSQL database of its own: created before the tests, dropped after,
/// with the inbox's metrics collected throughout.
/// </summary>
/// <param name="databasePrefix">The database's name prefix, to tell test classes apart on the server.</param>
public abstract class RabbitMqPostgresTests(string databasePrefix) : IAsyncLifetime
{
    protected InboxMetrics Metrics { get; } = new();

    protected PostgresDatabase Database { get; private set; } = null!;

    protected RabbitMqQueues Broker { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Database = await PostgresDatabase.CreateAsync(databasePrefix);
        Broker = await RabbitMqQueues.ConnectAsync();
    }

    public async Task DisposeAsync()
    {
        Metrics.Dispose();
        await Broker.DisposeAsync();
        await Database.DisposeAsync();
    }
}
