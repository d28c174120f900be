using Npgsql;

namespace Inbox.Benchmarks.Scenarios.Kafka;

/// <summary>
/// CPU seconds spent so far (Linux /proc), split the way the Kafka scenario needs: this process's librdkafka threads
/// (<c>rdk:*</c>: the consumer's and, on the mock, the broker's own), the rest of this process (.NET: consume thread,
/// workers, EF Core, Npgsql), and the PostgreSQL backends serving the benchmark's database. Threads that ended between
/// two samples count in the process total only; background PostgreSQL processes (WAL writer, checkpointer) are left out.
/// </summary>
public sealed record CpuSample(double Process, IReadOnlyDictionary<string, double> Threads, IReadOnlyDictionary<int, double> Backends)
{
    private const double TicksPerSecond = 100; // USER_HZ on Linux

    public static async Task<CpuSample> TakeAsync(string connectionString)
    {
        var threads = new Dictionary<string, double>();
        foreach (var task in SafeDirectories("/proc/self/task"))
        {
            if (Read($"{task}/stat") is { } stat)
            {
                threads[$"{Path.GetFileName(task)}:{stat.Name}"] = stat.Seconds;
            }
        }

        var backends = new Dictionary<int, double>();
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()", connection);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                var pid = reader.GetInt32(0);
                if (Read($"/proc/{pid}/stat") is { } stat)
                {
                    backends[pid] = stat.Seconds;
                }
            }
        }

        return new CpuSample(Read("/proc/self/stat")?.Seconds ?? double.NaN, threads, backends);
    }

    /// <summary>Seconds of CPU since <paramref name="start"/>: process, librdkafka threads, PostgreSQL backends.</summary>
    public (double Process, double Librdkafka, double Postgres) Since(CpuSample start)
    {
        var librdkafka = Threads.Where(t => t.Key.Contains(":rdk:", StringComparison.Ordinal))
            .Sum(t => t.Value - start.Threads.GetValueOrDefault(t.Key));
        var postgres = Backends.Sum(b => b.Value - start.Backends.GetValueOrDefault(b.Key));
        return (Process - start.Process, librdkafka, postgres);
    }

    private static IEnumerable<string> SafeDirectories(string path) => Directory.Exists(path) ? Directory.EnumerateDirectories(path) : [];

    private static (string Name, double Seconds)? Read(string path)
    {
        try
        {
            // pid (comm) state ... utime(14) stime(15): comm may hold spaces, so split after its closing parenthesis.
            var text = File.ReadAllText(path);
            var open = text.IndexOf('(', StringComparison.Ordinal);
            var close = text.LastIndexOf(')');
            var fields = text[(close + 2)..].Split(' ');
            var ticks = long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture);
            return (text[(open + 1)..close], ticks / TicksPerSecond);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }
}
