using Inbox.Benchmarks.Harness;
using Inbox.Benchmarks.Scenarios;

// ./build/bench.sh [scenario ...] [--messages N] [--rounds R] [--only variant,variant]
// ./build/bench.sh soak [--messages N] [--rate R] [--retention Delete|Generations]
if (args.Length > 0 && args[0] == "soak")
{
    return await Inbox.Benchmarks.Soak.SoakCommand.RunAsync(args);
}

var names = new List<string>();
int? messages = null;
var rounds = 3;
string[]? only = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--messages":
            messages = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture);
            break;
        case "--only":
            only = args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            break;
        case "--rounds":
            rounds = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture);
            break;
        default:
            names.Add(args[i]);
            break;
    }
}

var catalogue = ScenarioCatalogue.Create();

if (names.Count == 0 || names.Contains("all", StringComparer.OrdinalIgnoreCase))
{
    names = [.. catalogue.Keys];
}

var unknown = names.Where(n => !catalogue.ContainsKey(n)).ToList();
if (unknown.Count > 0)
{
    Console.Error.WriteLine($"Unknown scenario(s): {string.Join(", ", unknown)}. Known: {string.Join(", ", catalogue.Keys)}, all.");
    return 2;
}

var runner = new BenchRunner(messages, rounds, Console.Out, only);
var reports = new List<ScenarioReport>();
foreach (var name in names)
{
    await using var scenario = catalogue[name]();
    reports.Add(await runner.RunAsync(scenario, CancellationToken.None));
}

BenchRunner.PrintTable(reports, Console.Out);
var command = "./build/bench.sh " + string.Join(' ', args);
var path = await BenchRunner.WriteJsonAsync(reports, Path.Combine(Environment.GetEnvironmentVariable("INBOX_BENCH_OUT") ?? "artifacts/bench"), command);
Console.WriteLine($"\nJSON: {path}");
var wrong = reports.SelectMany(r => r.Variants).Where(v => !v.Correct).ToList();
if (wrong.Count > 0)
{
    Console.WriteLine($"INCORRECT: {string.Join(", ", wrong.Select(v => v.Name))} produced the wrong effect; their figures do not count.");
    return 1;
}

Console.WriteLine("Every run produced the right effect.");
return 0;
