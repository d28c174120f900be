namespace Inbox;

/// <summary>
/// When <see cref="InboxOptions.OneRoundTrip"/> looks a message's ID up before running its handler. Whatever the
/// choice, the inbox record's primary key decides: a duplicate's writes are rolled back whole and it counts as a
/// Duplicate. The lookup only decides whether a known duplicate's handler runs at all, at one round trip per message.
/// </summary>
public enum InboxLookup
{
    /// <summary>Every message is looked up first: a known duplicate never runs its handler. Two round trips per message. The default.</summary>
    Always = 0,

    /// <summary>
    /// Only a message the transport marks as delivered before (<see cref="InboxMessage.Redelivered"/>: RabbitMQ's
    /// redelivered flag, which MassTransit passes on) is looked up first; any other message goes straight to its handler,
    /// one round trip. This catches the redeliveries a crash or a lost acknowledgement causes before their handler runs;
    /// a copy the producer sent twice runs its handler, and the record's primary key rolls its writes back.
    /// </summary>
    WhenRedelivered = 1,

    /// <summary>No message is looked up first: one round trip per message, and every duplicate runs its handler before its writes are rolled back.</summary>
    Never = 2,
}
