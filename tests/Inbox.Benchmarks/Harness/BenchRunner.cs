using System.Diagnostics;
using System.Text.Json;

namespace Inbox.Benchmarks.Harness;

/// <summary>
/// Runs each scenario's variants interleaved (A B A B ...) for the given rounds, so that drift in the machine
/// hits every variant alike, then reports median, min and max and the ratio of medians to the baseline.
/// </summary>
public sealed class BenchRunner(int? messages, int rounds, TextWriter output, IReadOnlyList<string>? only = null)
{
    public async Task<ScenarioReport> RunAsync(IScenario scenario, CancellationToken cancellationToken)
    {
        var count = messages ?? scenario.DefaultMessages;
        output.WriteLine($"== {scenario.Name}: {scenario.Description}");
        output.WriteLine($"   {count:N0} messages, {rounds} rounds, variants interleaved");
        var all = await scenario.SetUpAsync(cancellationToken);

        // --only keeps the named variants (by substring) and the baselines they are measured against.
        var keep = only is null ? all : all.Where(v => only.Any(o => v.Name.Contains(o, StringComparison.OrdinalIgnoreCase))).ToList();
        var variants = all.Where(v => keep.Contains(v) || keep.Any(k => (k.Baseline ?? all[0].Name) == v.Name)).ToList();
        var results = variants.ToDictionary(v => v.Name, _ => new List<RoundResult>());
        for (var round = 1; round <= rounds; round++)
        {
            foreach (var variant in variants)
            {
                output.Write($"   round {round}/{rounds} {variant.Name,-28} ");
                var stopwatch = Stopwatch.StartNew();
                var result = await variant.RunAsync(count, cancellationToken);
                results[variant.Name].Add(result);
                var extra = string.Join(", ", result.Figures.Select(f => $"{f.Key} {f.Value:0.##}"));
                output.WriteLine($"{result.PerSecond,10:N0} msg/s  {(result.Correct ? "correct" : "WRONG")}: {result.Check}{(extra.Length > 0 ? "; " + extra : "")}  ({stopwatch.Elapsed.TotalSeconds:0.0} s)");
            }
        }

        var rows = variants.Select(v =>
        {
            var runs = results[v.Name];
            var median = Stats.Median(runs.Select(r => r.PerSecond));
            // A baseline whose own baseline was left out by --only is reported against itself.
            var baselineName = results.ContainsKey(v.Baseline ?? all[0].Name) ? v.Baseline ?? all[0].Name : v.Name;
            var baseline = Stats.Median(results[baselineName].Select(r => r.PerSecond));
            var figures = runs.SelectMany(r => r.Figures.Keys).Distinct()
                .ToDictionary(k => k, k => Stats.Median(runs.Where(r => r.Figures.ContainsKey(k)).Select(r => r.Figures[k])));
            return new VariantReport(
                v.Name, baselineName, median, runs.Min(r => r.PerSecond), runs.Max(r => r.PerSecond), median / baseline,
                runs.All(r => r.Correct), runs.Select(r => r.Check).Last(), figures);
        }).ToList();
        return new ScenarioReport(scenario.Name, scenario.Description, count, rounds, rows);
    }

    public static void PrintTable(IReadOnlyList<ScenarioReport> reports, TextWriter output)
    {
        output.WriteLine();
        output.WriteLine("| scenario | variant | median msg/s | min | max | ratio | baseline | correct | figures (medians) |");
        output.WriteLine("|---|---|---:|---:|---:|---:|---|---|---|");
        foreach (var report in reports)
        {
            foreach (var row in report.Variants)
            {
                var figures = string.Join(", ", row.Figures.Select(f => $"{f.Key} {f.Value:0.##}"));
                output.WriteLine($"| {report.Scenario} | {row.Name} | {row.Median:N0} | {row.Min:N0} | {row.Max:N0} | {row.Ratio:0.00} | {row.Baseline} | {(row.Correct ? "yes" : "NO")} | {figures} |");
            }
        }
    }

    public static async Task<string> WriteJsonAsync(IReadOnlyList<ScenarioReport> reports, string directory, string command)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, $"bench-{DateTime.UtcNow:yyyyMMdd-HHmmss}.json");
        var document = new
        {
            command,
            machine = new { Environment.ProcessorCount, os = Environment.OSVersion.ToString(), runtime = Environment.Version.ToString() },
            scenarios = reports,
        };
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(document, new JsonSerializerOptions { WriteIndented = true }));
        return path;
    }
}

public sealed record VariantReport(string Name, string Baseline, double Median, double Min, double Max, double Ratio, bool Correct, string Check, Dictionary<string, double> Figures);

public sealed record ScenarioReport(string Scenario, string Description, int Messages, int Rounds, IReadOnlyList<VariantReport> Variants);
