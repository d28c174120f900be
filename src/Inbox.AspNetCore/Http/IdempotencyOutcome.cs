namespace Inbox.AspNetCore.Http;

/// <summary>What became of one request to an endpoint that requires an <c>Idempotency-Key</c>.</summary>
internal enum IdempotencyOutcome
{
    /// <summary>A new key: the endpoint ran; its writes, the key and the response committed together.</summary>
    Processed,

    /// <summary>A key already completed with the same request: its stored response was sent again.</summary>
    Replayed,

    /// <summary>The key's first request was still running: 409.</summary>
    InFlight,

    /// <summary>The key was used for another request: 422.</summary>
    Mismatch,

    /// <summary>No key or an unusable one: 400.</summary>
    InvalidKey,

    /// <summary>The endpoint answered 5xx (everything rolled back), or 4xx with <see cref="IdempotencyKeyOptions.StoreClientErrors"/> off.</summary>
    NotStored,
}
