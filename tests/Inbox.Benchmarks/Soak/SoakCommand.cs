using System.Globalization;
using System.Text.Json;

namespace Inbox.Benchmarks.Soak;

/// <summary><c>./build/bench.sh soak [--messages N] [--rate R] [--retention Delete|Generations]</c>: both retention modes unless one is named.</summary>
public static class SoakCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var settings = new SoakSettings();
        var modes = new List<InboxRetention> { InboxRetention.Delete, InboxRetention.Generations };
        for (var i = 1; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--messages":
                    settings = settings with { Messages = int.Parse(args[++i], CultureInfo.InvariantCulture) };
                    break;
                case "--rate":
                    settings = settings with { Rate = int.Parse(args[++i], CultureInfo.InvariantCulture) };
                    break;
                case "--partitions":
                    settings = settings with { Partitions = int.Parse(args[++i], CultureInfo.InvariantCulture) };
                    break;
                case "--no-autovacuum":
                    settings = settings with { Autovacuum = false };
                    break;
                case "--retention":
                    modes = [Enum.Parse<InboxRetention>(args[++i], ignoreCase: true)];
                    break;
                default:
                    await Console.Error.WriteLineAsync($"Unknown soak option '{args[i]}'. Use --messages N, --rate R, --partitions P, --retention Delete|Generations, --no-autovacuum.");
                    return 2;
            }
        }

        var results = new List<SoakResult>();
        foreach (var mode in modes)
        {
            results.Add(await SoakRun.RunAsync(mode, settings, Console.Out, CancellationToken.None));
        }

        SoakRun.Print(results, Console.Out);
        var directory = Environment.GetEnvironmentVariable("INBOX_BENCH_OUT") ?? "artifacts/bench";
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, $"soak-{DateTime.UtcNow:yyyyMMdd-HHmmss}.json");
        var document = new { command = "./build/bench.sh " + string.Join(' ', args), settings, results };
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(document, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"\nJSON: {path}");
        if (results.Any(r => !r.Correct))
        {
            Console.WriteLine("INCORRECT: exactly-once did not hold.");
            return 1;
        }

        Console.WriteLine("Exactly once in every mode.");
        return 0;
    }
}
