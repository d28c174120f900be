namespace Inbox.Benchmarks.Scenarios.Messaging;

/// <summary>The event the outbox scenario's consumers publish, one per order.</summary>
public sealed record OrderShipped(string OrderKey);
