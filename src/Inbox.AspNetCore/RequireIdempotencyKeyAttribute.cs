using Inbox.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Filters;

namespace Inbox.AspNetCore;

/// <summary>
/// Makes an MVC action (or every action of a controller) require an <c>Idempotency-Key</c> header: a new key runs the
/// action and stores its response in the action's transaction; the same key again replays that response. Minimal APIs
/// use <c>RequireIdempotencyKey()</c> on the endpoint. Needs <c>app.UseIdempotencyKeys()</c> in the pipeline: without
/// it, the action throws rather than run unprotected.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = false, Inherited = true)]
public sealed class RequireIdempotencyKeyAttribute : Attribute, IAsyncResourceFilter
{
    /// <summary>Checks that the request went through <c>app.UseIdempotencyKeys()</c>, then runs the action.</summary>
    /// <param name="context">The resource executing context.</param>
    /// <param name="next">The rest of the pipeline.</param>
    /// <returns>A task that completes when the action has run.</returns>
    public Task OnResourceExecutionAsync(ResourceExecutingContext context, ResourceExecutionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        IdempotencyKeyMiddleware.EnsureRan(context.HttpContext);
        return next();
    }
}
