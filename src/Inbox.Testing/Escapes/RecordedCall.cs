namespace Inbox.Testing.Escapes;

/// <summary>
/// An effect a handler caused outside the database during one of the scenario's deliveries: a request sent through
/// <c>IHttpClientFactory</c>, or a message published or sent on a bus rather than through the outbox.
/// </summary>
/// <param name="Delivery">Which delivery caused it, e.g. <c>the crashed delivery</c> or <c>copy 3</c>.</param>
/// <param name="What">What it was: an HTTP method, <c>Produce</c> (Kafka), or <c>Publish</c>/<c>Send</c> (a bus).</param>
/// <param name="Target">Where it went: the request's URI, or the message type or destination.</param>
/// <param name="Safe">Whether repeating it changes nothing (GET, HEAD, OPTIONS).</param>
/// <param name="Key">What lets the receiver apply it once, if anything: the request's Idempotency-Key, the message's ID.</param>
/// <param name="KeyName">What the key is called, for the report.</param>
internal sealed record RecordedCall(string Delivery, string What, string Target, bool Safe, string? Key, string KeyName)
{
    /// <summary>Returns the call as a line of a report.</summary>
    /// <returns>What, where, the key and the delivery.</returns>
    public override string ToString() => $"{What} {Target}{(Key is null ? "" : $" ({KeyName}: {Key})")}, in {Delivery}";
}
