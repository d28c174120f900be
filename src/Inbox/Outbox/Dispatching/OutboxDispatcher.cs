using System.Diagnostics;
using System.Text.Json;
using Inbox.Outbox.Storage;
using Inbox.Outbox.Writing;
using Inbox.Resilience;
using Inbox.Telemetry;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;

namespace Inbox.Outbox.Dispatching;

/// <summary>
/// Sends a DbContext's committed outbox rows and deletes each once its broker acknowledged it. Woken right after a
/// commit in this process, it also polls for rows it was not told about (another instance died before sending them).
/// One dispatch, on PostgreSQL, is one transaction: it claims the lanes no other dispatcher holds (advisory locks,
/// never waiting), reads their rows in ID order, sends them, deletes the sent ones, records refusals, commits. A lane is
/// never dispatched by two instances at once, and a dispatcher killed mid-batch leaves its rows to the next one (sent
/// again under the same message IDs: at least once). An outage of the broker or the database backs off and retries.
/// </summary>
internal sealed class OutboxDispatcher<TDbContext>(
    IServiceProvider services,
    IServiceScopeFactory scopes,
    IOptionsMonitor<OutboxOptions> options,
    OutboxSignal<TDbContext> signal,
    OutboxTelemetry telemetry,
    TimeProvider time,
    ILogger<OutboxDispatcher<TDbContext>> logger) : BackgroundService
    where TDbContext : DbContext
{
    /// <summary>The options name under which this DbContext's outbox is configured.</summary>
    public static readonly string OptionsName = typeof(TDbContext).FullName ?? typeof(TDbContext).Name;

    private static readonly TimeSpan BacklogInterval = TimeSpan.FromSeconds(10);

    private Dictionary<string, IOutboxTransport>? _transports;
    private long _lastBacklog;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var current = options.Get(OptionsName);
        if (!current.DispatchEnabled)
        {
            Log.OutboxDispatchDisabled(logger, typeof(TDbContext).Name);
            return;
        }

        _transports = current.Transports.ToDictionary(t => t.Key, t => t.Value(services), StringComparer.Ordinal);
        var pipeline = Outages(current);
        await Task.Yield();
        while (!stoppingToken.IsCancellationRequested)
        {
            var more = false;
            try
            {
                more = await pipeline.ExecuteAsync(static (self, ct) => new ValueTask<bool>(self.DispatchAsync(ct)), this, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                Log.OutboxDispatchFailed(logger, typeof(TDbContext).Name, current.PollInterval, exception);
            }

            if (!more)
            {
                try
                {
                    await signal.WaitAsync(current.PollInterval, time, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>One dispatch. Returns whether a full batch went out (so there may be more at once).</summary>
    internal async Task<bool> DispatchAsync(CancellationToken cancellationToken)
    {
        var current = options.Get(OptionsName);
        _transports ??= current.Transports.ToDictionary(t => t.Key, t => t.Value(services), StringComparer.Ordinal);
        var scope = scopes.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            var db = scope.ServiceProvider.GetRequiredService<TDbContext>();
            var store = OutboxStore.For(db);
            await ReportBacklogAsync(db, store, cancellationToken).ConfigureAwait(false);

            // Inside the DbContext's execution strategy: a retrying one (EnableRetryOnFailure) allows a transaction
            // nowhere else, and runs the whole dispatch again after a transient failure (sent again under the same IDs).
            var outcome = await db.Database.CreateExecutionStrategy().ExecuteAsync(
                (Self: this, Store: store, Options: current),
                static (db, s, ct) => s.Self.DispatchOnceAsync(db, s.Store, s.Options, ct),
                verifySucceeded: null,
                cancellationToken).ConfigureAwait(false);
            if (outcome is null)
            {
                return false;
            }

            var acknowledged = time.GetUtcNow();
            foreach (var row in outcome.SentRows)
            {
                telemetry.RecordSent(row.Transport, row.Destination, acknowledged - row.CreatedAt);
            }

            if (outcome.Sent.Count == 0 && outcome.Unavailable is { } reason)
            {
                throw new OutboxTransportUnavailableException(reason);
            }

            return outcome.Full;
        }
    }

    /// <summary>One attempt at a dispatch; null when there was nothing to send.</summary>
    private async Task<SendOutcome?> DispatchOnceAsync(DbContext db, OutboxStore store, OutboxOptions current, CancellationToken cancellationToken)
    {
        // PostgreSQL: the transaction holds the lanes until the sent rows are deleted. SQLite: one dispatching
        // process, and no write transaction held open while the broker answers (it would block every writer).
        var transaction = store.Provider.HasAdvisoryLocks ? await db.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false) : null;
        try
        {
            var lanes = await store.ClaimLanesAsync(db, current.Lanes, cancellationToken).ConfigureAwait(false);
            if (lanes.Count == 0)
            {
                return null;
            }

            var laneCount = current.Lanes;
            var rows = await db.Set<OutboxRecord>().AsNoTracking()
                .Where(r => r.FailedAt == null && lanes.Contains((r.KeyHash & int.MaxValue) % laneCount))
                .OrderBy(r => r.Id)
                .Take(current.BatchSize)
                .ToListAsync(cancellationToken).ConfigureAwait(false);
            if (rows.Count == 0)
            {
                return null;
            }

            var outcome = await SendAsync(store, rows, cancellationToken).ConfigureAwait(false);
            if (outcome.Sent.Count > 0)
            {
                var sent = outcome.Sent;
                await db.Set<OutboxRecord>().Where(r => sent.Contains(r.Id)).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
            }

            foreach (var (row, error) in outcome.Refused)
            {
                var failed = row.Attempts + 1 >= current.MaxAttempts;
                var now = time.GetUtcNow();
                var attempts = row.Attempts + 1;
                await db.Set<OutboxRecord>().Where(r => r.Id == row.Id).ExecuteUpdateAsync(
                    s => s.SetProperty(r => r.Attempts, attempts).SetProperty(r => r.LastError, error).SetProperty(r => r.FailedAt, failed ? now : null),
                    cancellationToken).ConfigureAwait(false);
                if (failed)
                {
                    telemetry.RecordFailed(row.Transport, row.Destination);
                    Log.OutboxMessageFailed(logger, row.MessageId, row.Transport, row.Destination, attempts, error);
                }
                else
                {
                    Log.OutboxMessageRefused(logger, row.MessageId, row.Transport, row.Destination, attempts, current.MaxAttempts, error);
                }
            }

            if (transaction is not null)
            {
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            }

            outcome.Full = rows.Count == current.BatchSize;
            return outcome;
        }
        finally
        {
            if (transaction is not null)
            {
                await transaction.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private async Task<SendOutcome> SendAsync(OutboxStore store, List<OutboxRecord> rows, CancellationToken cancellationToken)
    {
        using var activity = OutboxTelemetry.ActivitySource.StartActivity(
            ActivityKind.Producer, tags: [new(OutboxTelemetry.Table, store.Table)], links: Links(rows), name: "outbox dispatch");
        activity?.SetTag("messaging.batch.message_count", rows.Count);
        var outcome = new SendOutcome();
        foreach (var group in rows.GroupBy(static r => r.Transport))
        {
            var batch = group.ToList();
            if (!_transports!.TryGetValue(group.Key, out var transport))
            {
                foreach (var row in batch)
                {
                    outcome.Refused.Add((row, $"No outbox transport named '{group.Key}' is registered: call AddOutbox<{typeof(TDbContext).Name}>(o => o.Use...()) for it."));
                }

                continue;
            }

            var deliveries = await transport.SendAsync(batch.ConvertAll(Envelope), cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < batch.Count; i++)
            {
                var delivery = i < deliveries.Count ? deliveries[i] : OutboxDelivery.Unavailable("The transport gave no delivery for this message.");
                switch (delivery.Status)
                {
                    case OutboxDeliveryStatus.Sent:
                        outcome.Sent.Add(batch[i].Id);
                        outcome.SentRows.Add(batch[i]);
                        break;
                    case OutboxDeliveryStatus.Refused:
                        outcome.Refused.Add((batch[i], delivery.Error ?? "refused"));
                        break;
                    default:
                        outcome.Unavailable ??= delivery.Error ?? "unavailable";
                        break;
                }
            }
        }

        activity?.SetTag("inbox.outbox.sent", outcome.Sent.Count);
        return outcome;
    }

    private async Task ReportBacklogAsync(DbContext db, OutboxStore store, CancellationToken cancellationToken)
    {
        if (_lastBacklog != 0 && time.GetElapsedTime(_lastBacklog) < BacklogInterval)
        {
            return;
        }

        _lastBacklog = time.GetTimestamp();
        var backlog = await OutboxBacklog.ReadAsync(db, cancellationToken).ConfigureAwait(false);
        telemetry.RecordBacklog(store.Table, backlog.Pending, backlog.OldestCreatedAt is { } oldest ? time.GetUtcNow() - oldest : null, backlog.Failed);
    }

    private ResiliencePipeline Outages(OutboxOptions current) => Backoff.Build(
        time,
        current.RetryDelay,
        current.RetryMaxDelay,
        static (exception, _) => exception is OutboxTransportUnavailableException || InboxFailures.Classify(exception) == InboxFailureKind.Store,
        args => Log.OutboxUnavailable(logger, typeof(TDbContext).Name, args.AttemptNumber + 1, args.RetryDelay, args.Outcome.Exception!.Message));

    private static OutboxEnvelope Envelope(OutboxRecord row) => new(
        row.MessageId,
        row.Destination,
        row.PartitionKey,
        row.Body,
        row.Headers is null ? new Dictionary<string, string>() : JsonSerializer.Deserialize(row.Headers, OutboxJson.Default.DictionaryStringString) ?? [],
        row.ContentType,
        row.TraceParent,
        row.CreatedAt,
        row.Attempts);

    private static IEnumerable<ActivityLink> Links(List<OutboxRecord> rows)
    {
        foreach (var row in rows.Take(32))
        {
            if (row.TraceParent is { } parent && ActivityContext.TryParse(parent, null, out var context))
            {
                yield return new ActivityLink(context);
            }
        }
    }

    public override void Dispose()
    {
        // Registered as itself and as a hosted service, so the container disposes it twice.
        var transports = Interlocked.Exchange(ref _transports, null);
        foreach (var transport in (transports?.Values.AsEnumerable() ?? []).OfType<IDisposable>())
        {
            transport.Dispose();
        }

        base.Dispose();
    }

    private sealed class SendOutcome
    {
        public List<long> Sent { get; } = [];

        public List<OutboxRecord> SentRows { get; } = [];

        public List<(OutboxRecord Row, string Error)> Refused { get; } = [];

        public string? Unavailable { get; set; }

        /// <summary>A full batch went out: there may be more at once.</summary>
        public bool Full { get; set; }
    }
}
