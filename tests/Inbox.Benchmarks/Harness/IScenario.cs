namespace Inbox.Benchmarks.Harness;

/// <summary>A benchmark scenario: variants to compare, the first one the baseline.</summary>
public interface IScenario : IAsyncDisposable
{
    string Name { get; }

    string Description { get; }

    /// <summary>The default message count; --messages overrides it.</summary>
    int DefaultMessages { get; }

    Task<IReadOnlyList<Variant>> SetUpAsync(CancellationToken cancellationToken);
}
