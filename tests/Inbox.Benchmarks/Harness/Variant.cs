namespace Inbox.Benchmarks.Harness;

/// <summary>
/// One way of doing the scenario's work. Its ratio is taken against <paramref name="Baseline"/> (a variant of the
/// same scenario measured in the same run), or against the scenario's first variant when none is named.
/// </summary>
public sealed record Variant(string Name, Func<int, CancellationToken, Task<RoundResult>> RunAsync, string? Baseline = null);
