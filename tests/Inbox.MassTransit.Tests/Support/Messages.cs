namespace Inbox.MassTransit.Tests.Support;

public sealed record OrderPlaced(string OrderId);
