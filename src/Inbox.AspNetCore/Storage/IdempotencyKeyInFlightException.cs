namespace Inbox.AspNetCore.Storage;

/// <summary>Another request with the same key is still running and did not finish within <see cref="IdempotencyKeyOptions.InFlightWait"/>.</summary>
internal sealed class IdempotencyKeyInFlightException(Exception inner)
    : Exception("Another request with this Idempotency-Key is still in flight.", inner);
