using Inbox.Outbox.Storage;
using Inbox.Storage.Providers;
using Inbox.Testing.Delivering;
using Inbox.Testing.Escapes;
using Inbox.Testing.Snapshots;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Inbox.Testing;

/// <summary>
/// The deliveries of one scenario and what each must leave in the database: a crash before the commit (nothing),
/// concurrent copies (one effect, the rest Duplicates), a redelivery (a Duplicate, nothing more).
/// </summary>
internal sealed class ExactlyOnceRun<TDbContext>(
    IServiceProvider services,
    string subject,
    string messageId,
    IScenarioDeliveries deliveries,
    int copies,
    EffectRecorder calls)
    where TDbContext : DbContext
{
    /// <summary>How long one delivery may take before the scenario reports it stuck, instead of waiting for ever.</summary>
    public static readonly TimeSpan DeliveryTimeout = TimeSpan.FromSeconds(30);

    private const string Escaped =
        "These writes escaped the unit of work's transaction: a second DbContext, a connection or transaction of the handler's own, " +
        "or an ExecuteUpdate/ExecuteDelete outside the unit. Write through the DbContext the handler is given (the unit's), " +
        "and send through its outbox (db.Outbox()) rather than a bus or producer.";

    public async Task<ExactlyOnceReport> RunAsync(CancellationToken cancellationToken)
    {
        // Listening from here on for requests of clients made with new; it stops with the scenario's services.
        services.GetRequiredService<RecordingHttpDiagnostics>();
        var (engine, oneWriter) = await DescribeDatabaseAsync(cancellationToken).ConfigureAwait(false);
        var title = $"Inbox scenario for {subject} on {engine}";
        var checks = new List<ScenarioCheck>();
        var start = await SnapshotAsync(cancellationToken).ConfigureAwait(false);

        // 1. The handler runs to its end, then the unit fails before the commit: the rollback must take everything.
        var crash = await DeliverAsync("the crashed delivery", crashBeforeCommit: true, redelivered: false, cancellationToken).ConfigureAwait(false);
        var afterCrash = await SnapshotAsync(cancellationToken).ConfigureAwait(false);
        var left = start.ChangesTo(afterCrash);
        if (crash.Error is not null || crash.Outcome is not null)
        {
            checks.Add(new ScenarioCheck(
                "Crash before the commit",
                false,
                crash.Error is not null
                    ? $"The handler threw before the simulated crash, so nothing else was checked:\n{crash.Error}"
                    : $"The first delivery was a {crash.Outcome}, not a new message: start the scenario on a database that has not seen \"{messageId}\"."));
            return new ExactlyOnceReport(title, checks, []);
        }

        checks.Add(left.Count == 0
            ? new ScenarioCheck("Crash before the commit", true, "The handler ran, then the unit failed before its commit: nothing remained.")
            : new ScenarioCheck(
                "Crash before the commit",
                false,
                $"The handler ran, then the unit failed before its commit, so everything should have been rolled back, but {Rows(left.Count)} remained:\n" +
                Lines(left) + "\n" + Escaped));

        var lastOutboxRow = await LastOutboxRowAsync(cancellationToken).ConfigureAwait(false);

        // 2. Copies at the same time, as a producer's retries or two consumers of a redelivered message bring them.
        var copiesDelivered = oneWriter
            ? await SequentialAsync(cancellationToken).ConfigureAwait(false)
            : await Task.WhenAll(Enumerable.Range(1, copies).Select(i => Task.Run(() => DeliverAsync($"copy {i}", false, false, cancellationToken), cancellationToken))).ConfigureAwait(false);
        var afterCopies = await SnapshotAsync(cancellationToken).ConfigureAwait(false);
        var effect = afterCrash.ChangesTo(afterCopies);
        var processed = copiesDelivered.Count(d => d.Outcome == InboxOutcome.Processed);
        var duplicates = copiesDelivered.Count(d => d.Outcome == InboxOutcome.Duplicate);
        var failures = copiesDelivered.Where(d => d.Error is not null).Select(d => d.Error!).ToList();
        var how = oneWriter
            ? $"{copies} copies, one after another ({engine} has one writer, so they cannot overlap; PostgreSQL runs them at the same time)"
            : $"{copies} copies at the same time";
        var copiesDetail = $"{how}: {processed} Processed, {duplicates} Duplicate{(failures.Count > 0 ? $", {failures.Count} failed" : "")}.\n" +
            (effect.Count == 0 ? "The delivery changed no table (a handler that only reads, or writes nothing the model maps)." : $"The effect of the delivery, {Rows(effect.Count)}:\n{Lines(effect)}") +
            (failures.Count > 0 ? $"\nThe first failure:\n{failures[0]}" : "");
        checks.Add(new ScenarioCheck("Concurrent copies", processed == 1 && duplicates == copies - 1, copiesDetail));

        // 3. The message once more, flagged as a redelivery: a Duplicate that changes nothing.
        var again = await DeliverAsync("the redelivery", false, redelivered: true, cancellationToken).ConfigureAwait(false);
        var afterAgain = await SnapshotAsync(cancellationToken).ConfigureAwait(false);
        var second = afterCopies.ChangesTo(afterAgain);
        var againDetail = (again.Error, again.Outcome) switch
        {
            ({ } error, _) => $"The redelivery failed:\n{error}",
            (_, InboxOutcome.Duplicate) when second.Count == 0 => "Delivered again: a Duplicate, and the database is as after one delivery.",
            (_, var outcome) => $"Delivered again: {outcome}, and {Rows(second.Count)} changed (a second set of rows or outbox messages):\n{Lines(second)}",
        };
        checks.Add(new ScenarioCheck("Redelivered", again.Error is null && again.Outcome == InboxOutcome.Duplicate && second.Count == 0, againDetail));

        checks.Add(CallsCheck());
        return new ExactlyOnceReport(title, checks, await OutboxAsync(lastOutboxRow, cancellationToken).ConfigureAwait(false));
    }

    // A request or a message is an effect no rollback takes back: the crashed delivery's went out although its writes
    // were undone.
    private ScenarioCheck CallsCheck()
    {
        const string Name = "Calls outside the database";
        var all = calls.Calls.ToList();
        var changing = all.Where(c => !c.Safe).ToList();
        if (all.Count == 0)
        {
            return new ScenarioCheck(Name, true, "Nothing went out through an HttpClient, a Kafka producer or the bus.");
        }

        var listed = string.Join('\n', all.Select(c => "  " + c));
        if (changing.Count == 0)
        {
            return new ScenarioCheck(Name, true, $"Only reads went out (GET, HEAD, OPTIONS), which repeating changes nothing:\n{listed}");
        }

        // Each request or message (what and where) sent with one key every time lets its receiver apply it once.
        if (changing.GroupBy(c => (c.What, c.Target)).All(g => g.All(c => c.Key is not null) && g.Select(c => c.Key).Distinct().Count() == 1))
        {
            return new ScenarioCheck(Name, true, $"What changes something carried the same key every time (its Idempotency-Key or message ID), so the receiver can apply it once:\n{listed}");
        }

        return new ScenarioCheck(
            Name,
            false,
            $"{changing.Count} requests or messages that change something went out, and a rollback cannot take them back (the crashed delivery's went out although its writes were undone):\n{listed}\n" +
            "Send through the outbox (db.Outbox(), or context.Publish with x.AddInboxOutbox), or with an Idempotency-Key derived from the message ID that the receiver honours.");
    }

    private static string Rows(int count) => count == 1 ? "1 row" : $"{count} rows";

    private static string Lines(IEnumerable<RowChange> changes) => string.Join('\n', changes.Select(c => "  " + c));

    private async Task<ScenarioDelivery[]> SequentialAsync(CancellationToken cancellationToken)
    {
        var delivered = new ScenarioDelivery[copies];
        for (var i = 0; i < copies; i++)
        {
            delivered[i] = await DeliverAsync($"copy {i + 1}", false, false, cancellationToken).ConfigureAwait(false);
        }

        return delivered;
    }

    private async Task<ScenarioDelivery> DeliverAsync(string label, bool crashBeforeCommit, bool redelivered, CancellationToken cancellationToken)
    {
        calls.Begin(label, label.StartsWith("copy", StringComparison.Ordinal) ? "one of the copies" : label);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(DeliveryTimeout);
        try
        {
            // Waited for with a timeout of its own too: a handler that ignores its token would otherwise hold the test.
            return await deliveries.DeliverAsync(crashBeforeCommit, redelivered, timeout.Token).WaitAsync(DeliveryTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is TimeoutException || (exception is OperationCanceledException && timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested))
        {
            return new ScenarioDelivery(null, new TimeoutException(
                $"The delivery did not finish within {DeliveryTimeout.TotalSeconds:0} s: is the handler waiting for a lock the unit of work holds " +
                "(a second DbContext or connection writing what the unit writes)?"));
        }
    }

    private async Task<DatabaseSnapshot> SnapshotAsync(CancellationToken cancellationToken)
    {
        var scope = services.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            return await DatabaseSnapshot.TakeAsync(scope.ServiceProvider.GetRequiredService<TDbContext>(), cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<(string Engine, bool OneWriter)> DescribeDatabaseAsync(CancellationToken cancellationToken)
    {
        var scope = services.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            InboxDeliveries<TDbContext>.Inbox(scope.ServiceProvider);
            var db = scope.ServiceProvider.GetRequiredService<TDbContext>();
            if (!await db.Database.CanConnectAsync(cancellationToken).ConfigureAwait(false))
            {
                throw new InvalidOperationException($"{typeof(TDbContext).Name}'s database does not answer: create it (EnsureCreated or the migrations) before the scenario.");
            }

            var provider = StorageProvider.For(db);
            return (provider.Name, provider.SingleWriter);
        }
    }

    // The outbox's rows are numbered in the order they are written: those after this one are the delivery's.
    private async Task<long> LastOutboxRowAsync(CancellationToken cancellationToken)
    {
        var scope = services.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            var db = scope.ServiceProvider.GetRequiredService<TDbContext>();
            return db.Model.FindEntityType(typeof(OutboxRecord)) is null
                ? 0
                : await db.Set<OutboxRecord>().MaxAsync(r => (long?)r.Id, cancellationToken).ConfigureAwait(false) ?? 0;
        }
    }

    private async Task<IReadOnlyList<CapturedOutboxMessage>> OutboxAsync(long after, CancellationToken cancellationToken)
    {
        var scope = services.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            var db = scope.ServiceProvider.GetRequiredService<TDbContext>();
            if (db.Model.FindEntityType(typeof(OutboxRecord)) is null)
            {
                return [];
            }

            var rows = await db.Set<OutboxRecord>().AsNoTracking().Where(r => r.Id > after).OrderBy(r => r.Id).ToListAsync(cancellationToken).ConfigureAwait(false);
            return [.. rows.Select(r => new CapturedOutboxMessage(r.Transport, r.Destination, r.PartitionKey, r.MessageId, r.Body, r.ContentType))];
        }
    }
}
