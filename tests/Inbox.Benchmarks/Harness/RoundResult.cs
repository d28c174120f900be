namespace Inbox.Benchmarks.Harness;

/// <summary>One run of one variant: how many messages, how long, whether the effect was right, and extra figures.</summary>
public sealed record RoundResult(int Messages, TimeSpan Elapsed, bool Correct, string Check)
{
    public double PerSecond => Messages / Elapsed.TotalSeconds;

    /// <summary>Extra figures, e.g. statements per message or latency percentiles.</summary>
    public Dictionary<string, double> Figures { get; } = [];
}
