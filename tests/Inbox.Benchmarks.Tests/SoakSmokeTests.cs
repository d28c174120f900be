using Inbox.Benchmarks.Soak;
using Xunit.Abstractions;

namespace Inbox.Benchmarks.Tests;

/// <summary>
/// The soak, tiny and fast: a two-second window and a purge every half second, so that generations rotate several
/// times while records with 10% copies flow through the Kafka consumer. Exactly once must hold; no timing is asserted.
/// </summary>
public sealed class SoakSmokeTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(InboxRetention.Delete)]
    [InlineData(InboxRetention.Generations)]
    public async Task Soak_TinyRunWithAShortWindow_EveryIdTakesEffectOnceAndTheInboxIsSampled(InboxRetention retention)
    {
        using var writer = new StringWriter();
        var settings = new SoakSettings(Messages: 6_000, Rate: 1_500, Window: TimeSpan.FromSeconds(2), PurgeInterval: TimeSpan.FromMilliseconds(500), SampleEvery: TimeSpan.FromSeconds(1));

        var result = await SoakRun.RunAsync(retention, settings, writer, CancellationToken.None);
        output.WriteLine(writer.ToString());

        Assert.True(result.Correct, $"{result.Rows} rows, {result.Distinct} distinct for {result.Unique} unique IDs");
        Assert.Equal(5_400, result.Unique);
        Assert.NotEmpty(result.Samples);
        if (retention == InboxRetention.Generations)
        {
            Assert.True(result.Samples[^1].Generation >= 1, $"no rotation happened: generation {result.Samples[^1].Generation}");
        }
    }
}
