using Inbox.AspNetCore;
using Inbox.AspNetCore.Http;
using Microsoft.AspNetCore.Http;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Makes minimal API endpoints require an <c>Idempotency-Key</c>.</summary>
public static class IdempotencyKeyEndpointConventionBuilderExtensions
{
    /// <summary>
    /// Requires an <c>Idempotency-Key</c> header on these endpoints: a new key runs the endpoint in one transaction with
    /// the key and the stored response (the endpoint's writes need no <c>SaveChanges</c>); the same key again replays the
    /// response with <c>Idempotent-Replayed: true</c>. Needs <c>services.AddIdempotencyKeys&lt;AppDbContext&gt;()</c> and
    /// <c>app.UseIdempotencyKeys()</c>; without the latter the endpoint throws rather than run unprotected.
    /// </summary>
    /// <typeparam name="TBuilder">The endpoint convention builder.</typeparam>
    /// <param name="builder">A route handler or group.</param>
    /// <returns>The same builder.</returns>
    public static TBuilder RequireIdempotencyKey<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.WithMetadata(new RequireIdempotencyKeyAttribute());
        builder.AddEndpointFilter(static (context, next) =>
        {
            IdempotencyKeyMiddleware.EnsureRan(context.HttpContext);
            return next(context);
        });
        return builder;
    }
}
