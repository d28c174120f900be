using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Inbox.AspNetCore.Http;

/// <summary>
/// Sends requests to endpoints marked with <see cref="RequireIdempotencyKeyAttribute"/> (minimal APIs'
/// <c>RequireIdempotencyKey()</c> adds it) through the idempotency key runner; others pass untouched. It sits after
/// routing (to know the endpoint) and after authentication (to scope keys by user).
/// </summary>
internal sealed class IdempotencyKeyMiddleware(RequestDelegate next)
{
    /// <summary>Set on every request that went through the middleware: the endpoint-side check reads it.</summary>
    public static readonly object Marker = new();

    public Task InvokeAsync(HttpContext context)
    {
        context.Items[Marker] = true;
        if (context.GetEndpoint()?.Metadata.GetMetadata<RequireIdempotencyKeyAttribute>() is null)
        {
            return next(context);
        }

        var runner = context.RequestServices.GetService<IdempotencyKeyRunner>()
            ?? throw new InvalidOperationException(
                "An endpoint requires an Idempotency-Key but no store is registered: call services.AddIdempotencyKeys<AppDbContext>().");
        return runner.RunAsync(context, next);
    }

    /// <summary>Throws when an endpoint that requires a key is reached without the middleware in the pipeline.</summary>
    public static void EnsureRan(HttpContext context)
    {
        if (!context.Items.ContainsKey(Marker))
        {
            throw new InvalidOperationException(
                "This endpoint requires an Idempotency-Key, but the request did not pass the idempotency middleware: " +
                "call app.UseIdempotencyKeys() after app.UseAuthentication() and app.UseAuthorization(), before the endpoints run.");
        }
    }
}
