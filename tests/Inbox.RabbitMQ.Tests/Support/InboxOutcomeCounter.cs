using System.Diagnostics.Metrics;

namespace Inbox.RabbitMQ.Tests.Support;

/// <summary>
/// Counts what the inbox of one consumer key did, from the <c>Inbox</c> meter of every host in the process: messages
/// processed, and messages skipped because their ID was already recorded.
/// </summary>
public sealed class InboxOutcomeCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _processed;
    private long _duplicates;

    public InboxOutcomeCounter(string consumer)
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
                if (tag.Key != "messaging.consumer.group.name" || tag.Value as string != consumer)
                {
                    continue;
                }

                if (instrument.Name == "inbox.messages.processed")
                {
                    Interlocked.Add(ref _processed, value);
                }
                else
                {
                    Interlocked.Add(ref _duplicates, value);
                }
            }
        });
        _listener.Start();
    }

    public long Processed => Interlocked.Read(ref _processed);

    public long Duplicates => Interlocked.Read(ref _duplicates);

    public void Dispose() => _listener.Dispose();
}
