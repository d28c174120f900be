using Inbox.Benchmarks.Harness;

namespace Inbox.Benchmarks.Scenarios;

/// <summary>Every scenario by name. The test suite runs each with a tiny size so that the harness keeps working.</summary>
public static class ScenarioCatalogue
{
    /// <param name="smoke">Small fixed sizes (e.g. fewer expired rows to purge), for the test suite.</param>
    public static IReadOnlyDictionary<string, Func<IScenario>> Create(bool smoke = false) =>
        new Dictionary<string, Func<IScenario>>(StringComparer.OrdinalIgnoreCase)
        {
            ["core"] = () => new CoreScenario(),
            ["core-dup"] = () => new CoreScenario(0.10),
            ["purge"] = () => new PurgeScenario(smoke ? 5_000 : 1_000_000),
            ["kafka"] = () => new Kafka.KafkaScenario(smoke),
        };
}
