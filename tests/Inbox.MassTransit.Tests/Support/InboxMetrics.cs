using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Inbox.MassTransit.Tests.Support;

/// <summary>Counts the inbox's outcome counters per consumer key, across every host in the process.</summary>
public sealed class InboxMetrics : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<(string Instrument, string Consumer), long> _counts = new();

    public InboxMetrics()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Inbox" && instrument.Name is "inbox.messages.processed" or "inbox.messages.duplicate")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "messaging.consumer.group.name" && tag.Value is string consumer)
                {
                    _counts.AddOrUpdate((instrument.Name, consumer), value, (_, sum) => sum + value);
                }
            }
        });
        _listener.Start();
    }

    /// <summary>Messages processed by consumer keys that contain <paramref name="queue"/>.</summary>
    public long Processed(string queue) => Sum("inbox.messages.processed", queue);

    /// <summary>Messages skipped as duplicates by consumer keys that contain <paramref name="queue"/>.</summary>
    public long Duplicates(string queue) => Sum("inbox.messages.duplicate", queue);

    public void Dispose() => _listener.Dispose();

    private long Sum(string instrument, string queue)
        => _counts.Where(c => c.Key.Instrument == instrument && c.Key.Consumer.StartsWith(queue + "/", StringComparison.Ordinal)).Sum(c => c.Value);
}
