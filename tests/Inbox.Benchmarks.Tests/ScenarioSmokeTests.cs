using Inbox.Benchmarks.Harness;
using Inbox.Benchmarks.Scenarios;
using Xunit.Abstractions;

namespace Inbox.Benchmarks.Tests;

/// <summary>Each benchmark scenario once, tiny, so the harness keeps working. No timing is asserted.</summary>
public sealed class ScenarioSmokeTests(ITestOutputHelper output)
{
    public static TheoryData<string> Scenarios => [.. ScenarioCatalogue.Create(smoke: true).Keys];

    [Theory]
    [MemberData(nameof(Scenarios))]
    public async Task Scenario_TinyRun_EveryVariantRunsAndProducesTheRightEffect(string name)
    {
        await using var scenario = ScenarioCatalogue.Create(smoke: true)[name]();
        using var writer = new StringWriter();
        var runner = new BenchRunner(messages: 200, rounds: 1, writer);

        var report = await runner.RunAsync(scenario, CancellationToken.None);
        output.WriteLine(writer.ToString());

        Assert.NotEmpty(report.Variants);
        Assert.All(report.Variants, v =>
        {
            Assert.True(v.Correct, $"{v.Name}: {v.Check}");
            Assert.True(v.Median > 0, $"{v.Name} reported no throughput");
        });
    }
}
