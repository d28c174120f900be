using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Inbox.AspNetCore.Storage;
using Inbox.AspNetCore.Telemetry;
using Inbox.Processing;
using Inbox.Processing.Units;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Inbox.AspNetCore.Http;

/// <summary>
/// One request under a key, in one transaction on the request's <typeparamref name="TDbContext"/>: insert the key first
/// (the primary key is the lock), run the endpoint with its response buffered, then store the response with the key and
/// the endpoint's writes and commit, and only then send the response. A key already there replays its response (or
/// answers 422 for another request); one still in flight answers 409. An exception or a 5xx rolls everything back.
/// </summary>
internal sealed class IdempotencyKeyRunner<TDbContext>(
    IOptionsMonitor<IdempotencyKeyOptions> optionsMonitor,
    IdempotencyTelemetry telemetry,
    TimeProvider time,
    UnitHooks<TDbContext> hooks,
    ILogger<IdempotencyKeyRunner<TDbContext>> logger) : IdempotencyKeyRunner, IDisposable
    where TDbContext : DbContext
{
    // SQLite: one request transaction at a time in this process, awaited here rather than in SQLite's busy wait,
    // which blocks a thread per waiting request and starves the thread pool under a burst.
    private readonly SemaphoreSlim _singleWriter = new(1, 1);

    public void Dispose() => _singleWriter.Dispose();

    public override async Task RunAsync(HttpContext context, RequestDelegate next)
    {
        var options = optionsMonitor.CurrentValue;
        var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? context.Request.Path.ToString();
        var key = IdempotencyKeyHeader.Read(context.Request, out var problem);
        if (key is null)
        {
            telemetry.Record(IdempotencyOutcome.InvalidKey, route);
            await IdempotencyProblems.BadKeyAsync(context, problem!).ConfigureAwait(false);
            return;
        }

        var cancellationToken = context.RequestAborted;
        var record = new IdempotencyRecord
        {
            Scope = Scope(context, options, route),
            Key = key,
            Fingerprint = await RequestFingerprint.ComputeAsync(context.Request, cancellationToken).ConfigureAwait(false),
        };

        var db = context.RequestServices.GetRequiredService<TDbContext>();
        var response = context.Response;
        var body = response.Body;
        using var buffer = new MemoryStream();
        response.Body = buffer;
        (IdempotencyOutcome Outcome, IdempotencyRecord? Stored) result;
        try
        {
            var attempt = 0;
            result = await db.Database.CreateExecutionStrategy().ExecuteAsync(
                async ct =>
                {
                    if (attempt++ > 0)
                    {
                        // The execution strategy runs the whole request again after a transient failure.
                        db.ChangeTracker.Clear();
                        response.Clear();
                        buffer.SetLength(0);
                    }

                    return await AttemptAsync(context, next, db, record, buffer, options, ct).ConfigureAwait(false);
                },
                cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            response.Body = body;
        }

        telemetry.Record(result.Outcome, route);
        switch (result.Outcome)
        {
            case IdempotencyOutcome.Replayed:
                Log.Replayed(logger, key, record.Scope, result.Stored!.StatusCode);
                await StoredResponse.ReplayAsync(response, result.Stored, cancellationToken).ConfigureAwait(false);
                break;
            case IdempotencyOutcome.InFlight:
                Log.InFlight(logger, key, record.Scope);
                await IdempotencyProblems.InFlightAsync(context).ConfigureAwait(false);
                break;
            case IdempotencyOutcome.Mismatch:
                Log.Mismatch(logger, key, record.Scope);
                await IdempotencyProblems.MismatchAsync(context).ConfigureAwait(false);
                break;
            default:
                if (result.Outcome == IdempotencyOutcome.NotStored)
                {
                    Log.NotStored(logger, key, record.Scope, response.StatusCode);
                }

                // Committed (or deliberately not kept): now the client may see the response.
                buffer.Position = 0;
                await buffer.CopyToAsync(body, cancellationToken).ConfigureAwait(false);
                break;
        }
    }

    private async Task<(IdempotencyOutcome, IdempotencyRecord?)> AttemptAsync(
        HttpContext context, RequestDelegate next, TDbContext db, IdempotencyRecord record, MemoryStream buffer, IdempotencyKeyOptions options, CancellationToken cancellationToken)
    {
        var store = IdempotencyStore.For(db);
        if (!store.SingleWriter)
        {
            return await RunInTransactionAsync(context, next, db, store, record, buffer, options, cancellationToken).ConfigureAwait(false);
        }

        await _singleWriter.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await RunInTransactionAsync(context, next, db, store, record, buffer, options, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _singleWriter.Release();
        }
    }

    private async Task<(IdempotencyOutcome, IdempotencyRecord?)> RunInTransactionAsync(
        HttpContext context, RequestDelegate next, TDbContext db, IdempotencyStore store, IdempotencyRecord record, MemoryStream buffer, IdempotencyKeyOptions options, CancellationToken cancellationToken)
    {
        // Without EF Core's automatic savepoints: a SaveChanges in the endpoint, or the final one, would otherwise cost
        // a SAVEPOINT and a RELEASE round trip each, and a failure rolls the whole request back anyway.
        var transaction = new SavepointsOff(db, await db.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false));
        await using (transaction.ConfigureAwait(false))
        {
            var now = time.GetUtcNow();
            record.CreatedAt = now;
            // Three tries at most: a key found expired is deleted and inserted anew, and so is one the purger deleted
            // between the insert and the read (an expired key, so the request is new, not in flight).
            var inserted = false;
            var vanished = false;
            for (var tries = 0; tries < 3 && !inserted; tries++)
            {
                try
                {
                    inserted = await store.TryInsertAsync(db, record, options.InFlightWait, cancellationToken).ConfigureAwait(false);
                }
                catch (IdempotencyKeyInFlightException)
                {
                    return (IdempotencyOutcome.InFlight, null);
                }

                if (inserted)
                {
                    break;
                }

                // Not inserted and not committed: another request holds the key, or the purger deleted it this instant.
                // One more insert tells them apart; a key still held then is in flight (409), without a third round.
                var existing = await store.FindAsync(db, record.Scope, record.Key, cancellationToken).ConfigureAwait(false);
                if (existing is null)
                {
                    if (vanished)
                    {
                        return (IdempotencyOutcome.InFlight, null);
                    }

                    vanished = true;
                    continue;
                }

                if (existing.CreatedAt >= now - options.DeduplicationWindow)
                {
                    return existing.Fingerprint.AsSpan().SequenceEqual(record.Fingerprint)
                        ? (IdempotencyOutcome.Replayed, existing)
                        : (IdempotencyOutcome.Mismatch, null);
                }

                await store.DeleteAsync(db, record.Scope, record.Key, cancellationToken).ConfigureAwait(false);
            }

            if (!inserted)
            {
                return (IdempotencyOutcome.InFlight, null);
            }

            await next(context).ConfigureAwait(false);

            var status = context.Response.StatusCode;
            if (status >= StatusCodes.Status500InternalServerError)
            {
                await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
                return (IdempotencyOutcome.NotStored, null);
            }

            // The key's completion (or removal) goes in the same SaveChanges as the endpoint's pending writes: one batch.
            var outcome = IdempotencyOutcome.Processed;
            if (status >= StatusCodes.Status400BadRequest && !options.StoreClientErrors)
            {
                store.Remove(db, record);
                outcome = IdempotencyOutcome.NotStored;
            }
            else
            {
                StoredResponse.Capture(context.Response, buffer.GetBuffer().AsMemory(0, (int)buffer.Length), options, record);
                store.Complete(db, record);
            }

            hooks.BeforeCommit?.Invoke(db);
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return (outcome, null);
        }
    }

    private static string Scope(HttpContext context, IdempotencyKeyOptions options, string route)
    {
        if (options.Scope is { } custom)
        {
            var scope = custom(context);
            return scope is { Length: > 0 and <= IdempotencyRecord.MaxScopeLength }
                ? scope
                : throw new InvalidOperationException($"IdempotencyKeyOptions.Scope returned a scope of {scope?.Length ?? 0} characters: return 1 to {IdempotencyRecord.MaxScopeLength}.");
        }

        var user = context.User.Identity?.IsAuthenticated == true
            ? context.User.FindFirst(ClaimTypes.NameIdentifier)?.Value ?? context.User.Identity.Name
            : null;
        var value = user is null ? $"{context.Request.Method} {route}" : $"{context.Request.Method} {route}\nuser:{user}";

        // A long route or user ID still makes a bounded, distinct scope.
        return value.Length <= IdempotencyRecord.MaxScopeLength ? value : "sha256:" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(value)));
    }
}
