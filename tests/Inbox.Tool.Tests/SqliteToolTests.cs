using Inbox.TestSupport;

namespace Inbox.Tool.Tests;

public sealed class SqliteToolTests(ITestOutputHelper output) : ToolContract(output)
{
    private readonly SqliteDatabase _database = new();

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _database.Dispose();
    }

    protected override Task<(string Provider, string ConnectionString)> DatabaseAsync() => Task.FromResult(("sqlite", _database.ConnectionString));
}
