namespace Inbox.TestSupport;

/// <summary>A SQLite database file of its own for one test class, deleted afterwards.</summary>
public sealed class SqliteDatabase : IDisposable
{
    public SqliteDatabase()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"inbox-test-{Guid.NewGuid():N}.db");

        // WAL lets readers run beside the writer; the busy timeout queues concurrent writers instead of failing them.
        ConnectionString = $"Data Source={Path};Pooling=True;Default Timeout=60";
    }

    public string Path { get; }

    public string ConnectionString { get; }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var file in new[] { Path, Path + "-wal", Path + "-shm" })
        {
            File.Delete(file);
        }
    }
}
