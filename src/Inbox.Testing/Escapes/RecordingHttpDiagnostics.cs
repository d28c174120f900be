using System.Diagnostics;

namespace Inbox.Testing.Escapes;

/// <summary>
/// Records the requests any <see cref="HttpClient"/> sends from a delivery's own flow, one made with <c>new</c>
/// included: .NET's HTTP handler announces each request on its <c>HttpHandlerDiagnosticListener</c>. Only requests of
/// the scenario's deliveries (the recorder's async flow) are recorded, so other tests' requests in the same process are
/// not, and those the factory's recording handler has already recorded are skipped.
/// </summary>
/// <remarks>
/// Read from the diagnostic events rather than by wrapping the client: a client made with <c>new</c> cannot be
/// reached otherwise. A request sent through a handler that does not end in .NET's socket handler (a stub) raises no
/// event; one sent from a thread outside the delivery's flow (a bus's consumer) is not attributed, and not recorded.
/// </remarks>
internal sealed class RecordingHttpDiagnostics : IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>, IDisposable
{
    private const string ListenerName = "HttpHandlerDiagnosticListener";
    private const string RequestStart = "System.Net.Http.HttpRequestOut.Start";
    private readonly EffectRecorder _recorder;
    private readonly IDisposable _all;
    private readonly List<IDisposable> _listeners = [];

    public RecordingHttpDiagnostics(EffectRecorder recorder)
    {
        _recorder = recorder;
        _all = DiagnosticListener.AllListeners.Subscribe(this);
    }

    public void OnNext(DiagnosticListener value)
    {
        if (value.Name == ListenerName)
        {
            lock (_listeners)
            {
                _listeners.Add(value.Subscribe(this, static (name, _, _) => name.StartsWith("System.Net.Http.HttpRequestOut", StringComparison.Ordinal)));
            }
        }
    }

    public void OnNext(KeyValuePair<string, object?> value)
    {
        if (value.Key == RequestStart && value.Value?.GetType().GetProperty("Request")?.GetValue(value.Value) is HttpRequestMessage request)
        {
            _recorder.RecordUnseenRequest(request);
        }
    }

    public void OnCompleted()
    {
    }

    public void OnError(Exception error)
    {
    }

    public void Dispose()
    {
        _all.Dispose();
        lock (_listeners)
        {
            _listeners.ForEach(l => l.Dispose());
            _listeners.Clear();
        }
    }
}
