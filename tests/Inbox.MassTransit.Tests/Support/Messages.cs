namespace Inbox.MassTransit.Tests.Support;

public sealed record OrderPlaced(string OrderId);

/// <summary>What the publishing consumer announces for each order it ships, through the outbox.</summary>
public sealed record OrderShipped(string OrderId);

/// <summary>A request answered through the outbox.</summary>
public sealed record QuoteRequested(string OrderId);

/// <summary>The response; <see cref="Attempt"/> says which attempt of the consumer sent it.</summary>
public sealed record Quote(string OrderId, int Attempt);
