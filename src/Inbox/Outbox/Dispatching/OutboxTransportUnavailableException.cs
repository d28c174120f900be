namespace Inbox.Outbox.Dispatching;

/// <summary>No message of a dispatch could be sent because a broker could not be reached: back off and try again.</summary>
internal sealed class OutboxTransportUnavailableException(string message) : Exception(message);
