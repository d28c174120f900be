namespace Inbox.Benchmarks.Scenarios.Messaging;

/// <summary>The message of the broker scenarios; <see cref="OrderKey"/> is the stream's ID, written to the order row.</summary>
public sealed record OrderPlaced(string OrderKey);
