using System.Collections.Concurrent;

namespace Inbox.Testing.Escapes;

/// <summary>
/// The effects handlers cause outside the database while the scenario delivers, each labelled with the delivery that
/// caused it: from the async flow where the delivery runs in the test's own (concurrent copies told apart), else from
/// the phase the run is in (a bus's consumers run on its threads).
/// </summary>
internal sealed class EffectRecorder
{
    private readonly AsyncLocal<string?> _delivery = new();
    private readonly ConcurrentQueue<RecordedCall> _calls = new();
    private volatile string _phase = "no delivery";

    public IReadOnlyCollection<RecordedCall> Calls => _calls;

    /// <summary>Labels the effects caused from here on: in this async flow, and in the phase.</summary>
    public void Begin(string delivery, string phase)
    {
        _delivery.Value = delivery;
        _phase = phase;
    }

    // Set on a request the factory's handler recorded, so that the diagnostic events do not record it again.
    private static readonly HttpRequestOptionsKey<bool> Recorded = new("Inbox.Testing.Recorded");

    /// <summary>Records a request seen on the diagnostic events, if it comes from a delivery's flow and was not recorded yet.</summary>
    public void RecordUnseenRequest(HttpRequestMessage request)
    {
        if (_delivery.Value is not null && !request.Options.TryGetValue(Recorded, out _))
        {
            RecordRequest(request);
        }
    }

    public void RecordRequest(HttpRequestMessage request)
    {
        request.Options.Set(Recorded, true);
        var key = request.Headers.TryGetValues("Idempotency-Key", out var values) ? string.Join(",", values) : null;
        var method = request.Method;
        var safe = method == HttpMethod.Get || method == HttpMethod.Head || method == HttpMethod.Options;
        Record(method.Method, request.RequestUri?.ToString() ?? "", safe, key, "Idempotency-Key");
    }

    public void RecordMessage(string what, string target, string? messageId) => Record(what, target, safe: false, messageId, "message ID");

    private void Record(string what, string target, bool safe, string? key, string keyName)
        => _calls.Enqueue(new RecordedCall(_delivery.Value ?? _phase, what, target, safe, key, keyName));
}
