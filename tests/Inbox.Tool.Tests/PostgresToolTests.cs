using Inbox.TestSupport;

namespace Inbox.Tool.Tests;

public sealed class PostgresToolTests(ITestOutputHelper output) : ToolContract(output)
{
    private PostgresDatabase? _database;

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _database!.DisposeAsync();
    }

    [Fact]
    public async Task UnreachableServer_ExitsWith1_SayingItCannotConnect()
    {
        var run = await RunAsync(null, ["status", "--connection", "Host=127.0.0.1;Port=1;Username=u;Password=p;Database=d;Timeout=3"]);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("Cannot connect to the PostgreSQL database", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MalformedConnectionString_ExitsWith2()
    {
        var run = await RunAsync(null, ["status", "--connection", "Host=127.0.0.1;Colour=blue"]);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("The connection string is not valid for PostgreSQL", run.Error, StringComparison.Ordinal);
    }

    protected override async Task<(string Provider, string ConnectionString)> DatabaseAsync()
    {
        _database = await PostgresDatabase.CreateAsync("inbox_tool");
        return ("postgresql", _database.ConnectionString);
    }
}
