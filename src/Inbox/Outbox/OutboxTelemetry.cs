using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Inbox.Telemetry;

namespace Inbox.Outbox;

/// <summary>The outbox's instruments, on the <c>Inbox</c> meter, and its activity source (the same <c>Inbox</c> one).</summary>
internal sealed class OutboxTelemetry
{
    public const string Table = "inbox.table";
    public const string Transport = "messaging.system";
    public const string Destination = "messaging.destination.name";

    private static readonly string? Version = typeof(OutboxTelemetry).Assembly.GetName().Version?.ToString();

    private readonly Counter<long> _dispatched;
    private readonly Counter<long> _failed;
    private readonly Histogram<double> _latency;
    private readonly ConcurrentDictionary<string, (long Pending, double? OldestAgeSeconds, long Failed)> _tables = new(StringComparer.Ordinal);

    public OutboxTelemetry(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(InboxTelemetry.Name, Version);
        _dispatched = meter.CreateCounter<long>("inbox.outbox.dispatched", "{message}", "Outgoing messages the broker acknowledged.");
        _failed = meter.CreateCounter<long>("inbox.outbox.failed", "{message}", "Outgoing messages given up after OutboxOptions.MaxAttempts refusals, kept as failed.");
        _latency = meter.CreateHistogram<double>("inbox.outbox.dispatch_latency", "s", "Time from the commit that wrote a message to the broker's acknowledgement.");
        meter.CreateObservableGauge("inbox.outbox.pending", () => Observe(static t => t.Pending), "{message}", "Outgoing messages committed and not yet sent, as of the dispatcher's last look.");
        meter.CreateObservableGauge("inbox.outbox.oldest_pending_age", ObserveOldest, "s", "Age of the oldest pending outgoing message, as of the dispatcher's last look.");
        meter.CreateObservableGauge("inbox.outbox.failed_pending", () => Observe(static t => t.Failed), "{message}", "Outgoing messages kept as failed, waiting for someone to re-send or delete them.");
    }

    public static ActivitySource ActivitySource => InboxTelemetry.ActivitySource;

    public void RecordSent(string transport, string destination, TimeSpan latency)
    {
        var tags = new TagList { { Transport, transport }, { Destination, destination } };
        _dispatched.Add(1, tags);
        _latency.Record(Math.Max(0, latency.TotalSeconds), tags);
    }

    public void RecordFailed(string transport, string destination) => _failed.Add(1, new TagList { { Transport, transport }, { Destination, destination } });

    public void RecordBacklog(string table, long pending, TimeSpan? oldestAge, long failed) => _tables[table] = (pending, oldestAge?.TotalSeconds, failed);

    private IEnumerable<Measurement<long>> Observe(Func<(long Pending, double? OldestAgeSeconds, long Failed), long> value)
    {
        foreach (var (table, backlog) in _tables)
        {
            yield return new Measurement<long>(value(backlog), new KeyValuePair<string, object?>(Table, table));
        }
    }

    private IEnumerable<Measurement<double>> ObserveOldest()
    {
        foreach (var (table, backlog) in _tables)
        {
            yield return new Measurement<double>(backlog.OldestAgeSeconds ?? 0, new KeyValuePair<string, object?>(Table, table));
        }
    }
}
