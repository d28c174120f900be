using System.Diagnostics.Metrics;

namespace Inbox.Benchmarks.Scenarios.Kafka;

/// <summary>
/// Counts the messages the inbox settled (processed or duplicate: their transaction committed) for one consumer (a
/// Kafka consumer group; the RabbitMQ scenarios' queue, the consumer key), from the <c>Inbox</c> meter, and calls back
/// with each new total.
/// </summary>
public sealed class HandledCounter : IDisposable
{
    private readonly MeterListener _listener;
    private long _handled;

    public HandledCounter(string group, Action<long>? onTotal = null)
    {
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "Inbox" && instrument.Name is "inbox.messages.processed" or "inbox.messages.duplicate")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Value as string == group)
                {
                    var total = Interlocked.Add(ref _handled, value);
                    onTotal?.Invoke(total);
                }
            }
        });
        _listener.Start();
    }

    public long Handled => Interlocked.Read(ref _handled);

    public void Dispose() => _listener.Dispose();
}
