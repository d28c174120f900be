namespace Inbox.MassTransit.Tests.Support;

public sealed record OrderPlaced(string OrderId);

/// <summary>What the publishing consumer announces for each order it ships, through the outbox.</summary>
public sealed record OrderShipped(string OrderId);
