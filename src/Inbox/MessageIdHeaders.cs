namespace Inbox;

/// <summary>
/// The headers a message ID is read from by default, in order: CloudEvents' <c>ce_id</c>, MassTransit's
/// <c>MessageId</c>, then the common <c>message-id</c> and <c>x-message-id</c>. The Kafka and RabbitMQ consumers start
/// from them, the dead-letter replays look for them, and the test kit recognises a keyed record by them.
/// </summary>
internal static class MessageIdHeaders
{
    public static readonly IReadOnlyList<string> Defaults = ["ce_id", "MessageId", "message-id", "x-message-id"];

    /// <summary>The header a replayed dead letter gets its ID in when it carried it in none of the defaults.</summary>
    public const string Replayed = "message-id";
}
