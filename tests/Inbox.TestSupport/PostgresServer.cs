using System.Diagnostics;
using Npgsql;

namespace Inbox.TestSupport;

/// <summary>
/// A PostgreSQL server of one test's own: a throwaway cluster on a free port, which the test may stop, restart or kill
/// without touching the shared server that build/services.sh started (other tests, benchmarks and examples use that
/// one). Needs the PostgreSQL server binaries (Debian's postgresql package: build/services.sh installs it).
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private readonly string _bin;
    private readonly string _directory;
    private readonly bool _asPostgresUser;

    private PostgresServer(string bin, string directory, int port, bool asPostgresUser)
    {
        _bin = bin;
        _directory = directory;
        _asPostgresUser = asPostgresUser;
        Port = port;
        ConnectionString = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = port,
            Username = "postgres",
            Database = "postgres",
            Timeout = 5,
        }.ConnectionString;
    }

    public int Port { get; }

    /// <summary>The connection string of the <c>postgres</c> database (trust authentication, loopback only).</summary>
    public string ConnectionString { get; }

    /// <summary>Creates the cluster in a directory of its own under the temp folder and starts it.</summary>
    public static async Task<PostgresServer> StartAsync()
    {
        var bin = FindBinaries();
        var asPostgresUser = Environment.UserName == "root";
        var directory = Path.Combine(Path.GetTempPath(), $"inbox-pg-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        if (asPostgresUser)
        {
            // initdb refuses to run as root: the cluster belongs to the postgres user, in a directory only it can read.
            await ServerProcesses.RunAsync("chown", ["postgres:postgres", directory]);
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var server = new PostgresServer(bin, directory, ServerProcesses.FreePort(), asPostgresUser);
        await server.PgAsync("initdb", "-D", server.DataDirectory, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync");
        await server.StartAgainAsync();
        return server;
    }

    private string DataDirectory => Path.Combine(_directory, "data");

    /// <summary>Starts the stopped server and waits until it accepts connections.</summary>
    public Task StartAgainAsync() => PgAsync(
        "pg_ctl", "-D", DataDirectory, "-l", Path.Combine(_directory, "server.log"), "-w", "-t", "60",
        "-o", $"-p {Port} -k {_directory} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
        "start");

    /// <summary>A fast shutdown: open sessions are terminated (57P01), new connections refused until it starts again.</summary>
    public Task StopAsync() => PgAsync("pg_ctl", "-D", DataDirectory, "-m", "fast", "-w", "-t", "60", "stop");

    /// <summary>Stops the server, keeps it down for <paramref name="down"/>, starts it again; returns how long it was unreachable.</summary>
    public async Task<TimeSpan> RestartAsync(TimeSpan down)
    {
        var watch = Stopwatch.StartNew();
        await StopAsync();
        await Task.Delay(down);
        await StartAgainAsync();
        return watch.Elapsed;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await PgAsync("pg_ctl", "-D", DataDirectory, "-m", "immediate", "-w", "stop");
        }
        catch (InvalidOperationException)
        {
            // Already stopped.
        }

        NpgsqlConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private static string FindBinaries()
    {
        var candidates = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "pg_ctl")))
            : [];
        return candidates.OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0).FirstOrDefault()
            ?? throw new InvalidOperationException(
                "This test starts and restarts a PostgreSQL server of its own and needs the server binaries (initdb, pg_ctl) under " +
                "/usr/lib/postgresql/<version>/bin: run `build/services.sh start` (it installs Debian's postgresql package) or `apt-get install postgresql`.");
    }

    private Task PgAsync(string program, params string[] arguments)
        => _asPostgresUser
            ? ServerProcesses.RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(_bin, program), .. arguments])
            : ServerProcesses.RunAsync(Path.Combine(_bin, program), arguments);
}
