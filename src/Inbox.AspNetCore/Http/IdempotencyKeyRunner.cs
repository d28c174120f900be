using Microsoft.AspNetCore.Http;

namespace Inbox.AspNetCore.Http;

/// <summary>Runs a request to an endpoint that requires an <c>Idempotency-Key</c>, on the DbContext it was registered for.</summary>
internal abstract class IdempotencyKeyRunner
{
    public abstract Task RunAsync(HttpContext context, RequestDelegate next);
}
