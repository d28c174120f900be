using System.Collections.Concurrent;

namespace Inbox.Testing.Escapes;

/// <summary>
/// The requests handlers send through <c>IHttpClientFactory</c> while the scenario delivers, each labelled with the
/// delivery that sent it (carried by the async flow, so concurrent copies are told apart).
/// </summary>
internal sealed class HttpCallRecorder
{
    private readonly AsyncLocal<string?> _delivery = new();
    private readonly ConcurrentQueue<RecordedCall> _calls = new();

    public IReadOnlyCollection<RecordedCall> Calls => _calls;

    /// <summary>Labels the requests sent from here on in this async flow.</summary>
    public void Begin(string delivery) => _delivery.Value = delivery;

    public void Record(HttpRequestMessage request)
    {
        var key = request.Headers.TryGetValues("Idempotency-Key", out var values) ? string.Join(",", values) : null;
        _calls.Enqueue(new RecordedCall(_delivery.Value ?? "no delivery", request.Method, request.RequestUri, key));
    }
}
