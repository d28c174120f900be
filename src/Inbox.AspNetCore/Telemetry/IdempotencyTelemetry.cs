using System.Diagnostics;
using System.Diagnostics.Metrics;
using Inbox.AspNetCore.Http;
using Inbox.Telemetry;

namespace Inbox.AspNetCore.Telemetry;

/// <summary>What happened to requests with an <c>Idempotency-Key</c>, on the <c>Inbox</c> meter, tagged with the route.</summary>
internal sealed class IdempotencyTelemetry
{
    public const string Route = "http.route";

    private static readonly string? Version = typeof(IdempotencyTelemetry).Assembly.GetName().Version?.ToString();
    private readonly Dictionary<IdempotencyOutcome, Counter<long>> _counters;

    public IdempotencyTelemetry(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(InboxTelemetry.Name, Version);
        _counters = new()
        {
            [IdempotencyOutcome.Processed] = meter.CreateCounter<long>("inbox.http.processed", "{request}", "Requests with a new key that ran and stored their response."),
            [IdempotencyOutcome.Replayed] = meter.CreateCounter<long>("inbox.http.replayed", "{request}", "Requests answered with the stored response of their key."),
            [IdempotencyOutcome.InFlight] = meter.CreateCounter<long>("inbox.http.conflict", "{request}", "Requests answered 409 because their key was still in flight."),
            [IdempotencyOutcome.Mismatch] = meter.CreateCounter<long>("inbox.http.mismatch", "{request}", "Requests answered 422 because their key was used for another request."),
            [IdempotencyOutcome.InvalidKey] = meter.CreateCounter<long>("inbox.http.invalid_key", "{request}", "Requests answered 400 for a missing or invalid key."),
            [IdempotencyOutcome.NotStored] = meter.CreateCounter<long>("inbox.http.not_stored", "{request}", "Requests that ran but kept no key: a 5xx, or a 4xx with StoreClientErrors off."),
        };
    }

    public void Record(IdempotencyOutcome outcome, string route)
    {
        _counters[outcome].Add(1, new KeyValuePair<string, object?>(Route, route));
        Activity.Current?.SetTag(InboxTelemetryTags.Outcome, outcome.ToString());
    }
}
