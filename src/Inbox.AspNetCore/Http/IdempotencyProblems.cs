using Microsoft.AspNetCore.Http;

namespace Inbox.AspNetCore.Http;

/// <summary>The problem+json answers of the IETF draft: 400 for a missing or bad key, 409 while in flight, 422 for another request under a used key.</summary>
internal static class IdempotencyProblems
{
    public static Task BadKeyAsync(HttpContext context, string detail)
        => Results.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "Missing or invalid Idempotency-Key").ExecuteAsync(context);

    public static Task InFlightAsync(HttpContext context)
    {
        context.Response.Headers.RetryAfter = "1";
        return Results.Problem(
            "A request with this Idempotency-Key is still being processed. Retry after it completes to get its response.",
            statusCode: StatusCodes.Status409Conflict,
            title: "Request with this Idempotency-Key in flight").ExecuteAsync(context);
    }

    public static Task MismatchAsync(HttpContext context)
        => Results.Problem(
            "This Idempotency-Key was used for a different request (method, path, query or body differ). Use a new key for a new request.",
            statusCode: StatusCodes.Status422UnprocessableEntity,
            title: "Idempotency-Key reused for another request").ExecuteAsync(context);
}
