namespace Inbox.Testing.Escapes;

/// <summary>A request a handler sent through <c>IHttpClientFactory</c> during one of the scenario's deliveries.</summary>
/// <param name="Delivery">Which delivery sent it, e.g. <c>the crashed delivery</c> or <c>copy 3</c>.</param>
/// <param name="Method">The HTTP method.</param>
/// <param name="Uri">The request's URI.</param>
/// <param name="IdempotencyKey">The request's <c>Idempotency-Key</c> header, if any.</param>
internal sealed record RecordedCall(string Delivery, HttpMethod Method, Uri? Uri, string? IdempotencyKey)
{
    /// <summary>Gets whether the request only reads (GET, HEAD, OPTIONS), so repeating it changes nothing.</summary>
    public bool Safe => Method == HttpMethod.Get || Method == HttpMethod.Head || Method == HttpMethod.Options;

    /// <summary>Returns the call as a line of a report.</summary>
    /// <returns>The method, URI, key and delivery.</returns>
    public override string ToString()
        => $"{Method} {Uri}{(IdempotencyKey is null ? "" : $" (Idempotency-Key: {IdempotencyKey})")}, in {Delivery}";
}
