using System.Globalization;

namespace Inbox.Benchmarks.Scenarios.Messaging;

/// <summary>
/// CPU time used by the local servers (every <c>postgres</c> and RabbitMQ <c>beam.smp</c> process), read from
/// /proc: on two shared cores the consumer, the database and the broker compete, so where the time goes says more
/// than throughput alone. Zero where /proc is missing or the servers run elsewhere.
/// </summary>
public static class ServerCpu
{
    private const double TicksPerSecond = 100; // USER_HZ on Linux

    public static (TimeSpan Postgres, TimeSpan RabbitMq) Read()
    {
        double postgres = 0, rabbit = 0;
        if (!Directory.Exists("/proc"))
        {
            return default;
        }

        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var open = stat.IndexOf('(', StringComparison.Ordinal);
                var close = stat.LastIndexOf(')');
                var name = stat[(open + 1)..close];
                if (name is not ("postgres" or "beam.smp"))
                {
                    continue;
                }

                // After "(comm)": state is field 3; utime and stime are fields 14 and 15.
                var fields = stat[(close + 2)..].Split(' ');
                var ticks = double.Parse(fields[11], CultureInfo.InvariantCulture) + double.Parse(fields[12], CultureInfo.InvariantCulture);
                if (name == "postgres")
                {
                    postgres += ticks;
                }
                else
                {
                    rabbit += ticks;
                }
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or FormatException or ArgumentException)
            {
                // The process ended while we read it, or is not ours to read.
            }
        }

        return (TimeSpan.FromSeconds(postgres / TicksPerSecond), TimeSpan.FromSeconds(rabbit / TicksPerSecond));
    }
}
