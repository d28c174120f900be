using Inbox.TestSupport;

namespace Inbox.MassTransit.Tests.Support;

/// <summary>
/// A test class on a RabbitMQ node of its own (one it may stop, restart, or keep others' messages off) and a PostgreSQL
/// database of its own: both created before the tests, removed after.
/// </summary>
/// <param name="databasePrefix">The database's name prefix, to tell test classes apart on the server.</param>
public abstract class OwnRabbitMqNodeTests(string databasePrefix) : IAsyncLifetime
{
    protected PostgresDatabase Database { get; private set; } = null!;

    protected RabbitMqServer Node { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Database = await PostgresDatabase.CreateAsync(databasePrefix);
        Node = await RabbitMqServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await Node.DisposeAsync();
        await Database.DisposeAsync();
    }
}
