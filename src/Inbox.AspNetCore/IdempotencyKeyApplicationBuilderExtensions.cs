using Inbox.AspNetCore.Http;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Adds the idempotency key middleware to the request pipeline.</summary>
public static class IdempotencyKeyApplicationBuilderExtensions
{
    /// <summary>
    /// Runs requests to endpoints that require an <c>Idempotency-Key</c> under their key. Call it after routing, and after
    /// <c>UseAuthentication()</c> / <c>UseAuthorization()</c> so that keys are scoped by user; other requests pass
    /// untouched.
    /// </summary>
    /// <param name="app">The application builder.</param>
    /// <returns>The same builder.</returns>
    public static IApplicationBuilder UseIdempotencyKeys(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.UseMiddleware<IdempotencyKeyMiddleware>();
    }
}
