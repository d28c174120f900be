using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Inbox.Telemetry;

/// <summary>The <c>Inbox</c> meter and activity source, and the instruments on it.</summary>
internal sealed class InboxTelemetry : IDisposable
{
    public const string Name = "Inbox";

    private static readonly string? Version = typeof(InboxTelemetry).Assembly.GetName().Version?.ToString();

    private readonly Meter _meter;
    private readonly Counter<long> _processed;
    private readonly Counter<long> _duplicates;
    private readonly Counter<long> _conflicts;
    private readonly Counter<long> _late;
    private readonly Counter<long> _purged;
    private readonly Counter<long> _storeRetries;
    private readonly Counter<long> _adminChanges;
    private readonly ConcurrentDictionary<string, double> _oldestAgeSeconds = new(StringComparer.Ordinal);

    public InboxTelemetry(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(Name, Version);
        _processed = _meter.CreateCounter<long>("inbox.messages.processed", "{message}", "Messages processed: the handler ran and committed.");
        _duplicates = _meter.CreateCounter<long>("inbox.messages.duplicate", "{message}", "Messages skipped because their ID was already recorded.");
        _conflicts = _meter.CreateCounter<long>("inbox.messages.conflict", "{message}", "Messages skipped because their ID was recorded with other content.");
        _late = _meter.CreateCounter<long>("inbox.messages.late", "{message}", "Messages sent longer ago than the deduplication window.");
        _purged = _meter.CreateCounter<long>("inbox.records.purged", "{record}", "Expired inbox records deleted by the purger.");
        _adminChanges = _meter.CreateCounter<long>("inbox.admin.changes", "{row}", "Rows changed by an operator through IInboxAdmin or dotnet inbox: outbox messages retried or deleted, inbox records and idempotency keys forgotten.");
        _storeRetries = _meter.CreateCounter<long>("inbox.store.retries", "{attempt}", "Units of work tried again because the database failed.");
        _meter.CreateObservableGauge(
            "inbox.records.oldest_age",
            ObserveOldestAges,
            "s",
            "Age of the oldest record of each inbox table, as of the purger's last pass.");
    }

    public static ActivitySource ActivitySource { get; } = new(Name, Version);

    public void RecordOutcome(string consumer, InboxOutcome outcome, long count = 1)
    {
        if (count == 0)
        {
            return;
        }

        var tag = new KeyValuePair<string, object?>(InboxTelemetryTags.Consumer, consumer);
        var counter = outcome switch
        {
            InboxOutcome.Processed => _processed,
            InboxOutcome.Duplicate => _duplicates,
            _ => _conflicts,
        };
        counter.Add(count, tag);
    }

    public void RecordLate(string consumer) => _late.Add(1, new KeyValuePair<string, object?>(InboxTelemetryTags.Consumer, consumer));

    public void RecordPurged(string table, long count) => _purged.Add(count, new KeyValuePair<string, object?>(InboxTelemetryTags.Table, table));

    /// <summary>Counts the rows an operator's action changed, by action (<c>retry</c>, <c>delete</c>, <c>forget</c>, <c>forget_key</c>) and table.</summary>
    public void RecordAdminChange(string action, string table, long rows)
        => _adminChanges.Add(rows, new KeyValuePair<string, object?>(InboxTelemetryTags.Action, action), new KeyValuePair<string, object?>(InboxTelemetryTags.Table, table));

    public void RecordStoreRetry(string consumer) => _storeRetries.Add(1, new KeyValuePair<string, object?>(InboxTelemetryTags.Consumer, consumer));

    /// <summary>Records the oldest record's age of one table; <see langword="null"/> for an empty table.</summary>
    public void RecordOldestAge(string table, TimeSpan? age)
    {
        if (age is { } value)
        {
            _oldestAgeSeconds[table] = value.TotalSeconds;
        }
        else
        {
            _oldestAgeSeconds.TryRemove(table, out _);
        }
    }

    private IEnumerable<Measurement<double>> ObserveOldestAges()
    {
        foreach (var (table, age) in _oldestAgeSeconds)
        {
            yield return new Measurement<double>(age, new KeyValuePair<string, object?>(InboxTelemetryTags.Table, table));
        }
    }

    public void Dispose() => _meter.Dispose();
}
