using System.Data;
using System.Data.Common;
using System.Runtime.CompilerServices;
using Inbox.Model;
using Inbox.Purging;
using Inbox.Storage.Providers;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Inbox.Storage;

/// <summary>
/// <see cref="InboxRetention.Generations"/> on PostgreSQL: three record tables taken in turn, generation g living in
/// table g mod 3, and a one-row control table with the current generation and whether it is still settling.
/// <para>
/// <b>Writers.</b> Every insert statement reads the control row and says which generation it was written for, so a
/// process whose cached generation is stale notices it and writes again (nothing was written). With generation C
/// current, a new ID is checked against table C-1 and recorded in table C, whose primary key stops a concurrent copy.
/// </para>
/// <para>
/// <b>The race a rotation opens.</b> A unit that read C-1 as current records its ID in table C-1 only. If it has not
/// committed yet when a copy of the ID arrives under generation C, that copy's existence check on table C-1 cannot see
/// it (it is uncommitted) and table C does not hold it: both would run. So while C is <i>settling</i>, writers also
/// insert the ID into table C-1 (<c>ON CONFLICT DO NOTHING</c>), which waits for the other unit's row and then
/// conflicts: a duplicate, exactly as within one table. C stops settling once every unit that could have read C-1 as
/// current has ended. Each unit takes its transaction ID before it reads the generation (the batch's first statement),
/// so those units are exactly the transactions with an ID below one taken after the switch committed:
/// <c>pg_snapshot_xmin(pg_current_snapshot())</c> passing that ID proves they have all ended. Any transaction of the
/// cluster older than the switch holds settling up, never the other way round: correctness does not depend on time.
/// </para>
/// <para>
/// <b>Rotation</b> (the purger, one instance at a time under an advisory lock, each step its own transaction so a
/// crash anywhere leaves a consistent row): once C has settled, table C-2 is truncated (no unit can touch it any
/// more); once C is one window old, C+1 becomes current and settling. Writers never wait for it: they read the control
/// row without locking it, and the only table truncated is one no writer uses, under a short lock timeout.
/// </para>
/// </summary>
internal sealed class PostgreSqlGenerationsDialect : InboxDialect
{
    private const string RecordColumns = "consumer, message_id, processed_at, fingerprint";

    // A truncate waits at most this long for the table's lock. Settling has waited for every unit that used the table;
    // only a unit whose first attempt went by a stale generation (and wrote nothing) can still hold a lock on it.
    private const string TruncateLockTimeout = "50ms";

    private readonly string[] _recordTables;
    private readonly string _control;
    private readonly string[] _insertOne = new string[InboxGenerations.Tables];
    private readonly string[] _insertMany = new string[InboxGenerations.Tables];
    private readonly string[] _selectFingerprints = new string[InboxGenerations.Tables];
    private readonly string _selectFingerprintsAny;

    // The generation a unit of work (its transaction, so a later unit on the same DbContext never sees it) recorded under when its insert found a known ID, the case a lookup
    // follows, so that the lookup reads those two tables: the ones no truncate can touch while the unit is open. Kept
    // only then, not per message: the map costs a lock and a GC handle. A lookup without one (a batch's late messages
    // held back) reads by the control row instead.
    private readonly ConditionalWeakTable<object, StrongBox<long>> _unitGenerations = [];
    private long _generation = -1;

    public PostgreSqlGenerationsDialect(StorageProvider provider, InboxTableNames names, string[] recordTables, string control)
        : base(provider, names)
    {
        _recordTables = recordTables;
        _control = control;
        for (var slot = 0; slot < InboxGenerations.Tables; slot++)
        {
            var current = recordTables[slot];
            var previous = recordTables[(slot + InboxGenerations.Tables - 1) % InboxGenerations.Tables];

            // c: the control row as this statement sees it; p: the probe into the previous table while settling; n: the
            // record in the current table, after the existence check on the previous one, or while settling only if p
            // recorded it. n reads p through an uncorrelated subquery (an InitPlan), so p runs to completion first: every
            // statement locks previous-table keys before current-table keys, in ID order, and cannot deadlock another.
            _insertOne[slot] =
                $"WITH c AS (SELECT generation, settling FROM {control} WHERE id = 1), " +
                $"p AS (INSERT INTO {previous} ({RecordColumns}) SELECT $1::text, $2::text, $3::timestamptz, $4::bytea FROM c " +
                "WHERE c.generation = $5::bigint AND c.settling ON CONFLICT DO NOTHING RETURNING 1), " +
                $"n AS (INSERT INTO {current} ({RecordColumns}) SELECT $1::text, $2::text, $3::timestamptz, $4::bytea FROM c " +
                "WHERE c.generation = $5::bigint AND CASE WHEN c.settling THEN EXISTS (SELECT 1 FROM p) " +
                $"ELSE NOT EXISTS (SELECT 1 FROM {previous} x WHERE x.consumer = $1::text AND x.message_id = $2::text) END " +
                "ON CONFLICT DO NOTHING RETURNING 1) " +
                "SELECT c.generation, c.settling, EXISTS (SELECT 1 FROM n), EXISTS (SELECT 1 FROM p) FROM c";

            // The same for many IDs, inserted in the caller's order (WITH ORDINALITY) so every delivery locks keys alike.
            _selectFingerprints[slot] =
                $"SELECT message_id, fingerprint FROM {previous} WHERE consumer = $1 AND message_id = ANY($2) " +
                $"UNION ALL SELECT message_id, fingerprint FROM {current} WHERE consumer = $1 AND message_id = ANY($2)";

            _insertMany[slot] =
                $"WITH c AS (SELECT generation, settling FROM {control} WHERE id = 1), " +
                "u AS (SELECT u.id, u.fp, u.ord FROM unnest($2::text[], $4::bytea[]) WITH ORDINALITY AS u(id, fp, ord)), " +
                $"p AS (INSERT INTO {previous} ({RecordColumns}) SELECT $1::text, u.id, $3::timestamptz, u.fp FROM u, c " +
                "WHERE c.generation = $5::bigint AND c.settling ORDER BY u.ord ON CONFLICT DO NOTHING RETURNING message_id), " +
                $"n AS (INSERT INTO {current} ({RecordColumns}) SELECT $1::text, u.id, $3::timestamptz, u.fp FROM u, c " +
                "WHERE c.generation = $5::bigint AND CASE WHEN c.settling THEN u.id = ANY (ARRAY(SELECT message_id FROM p)) " +
                $"ELSE NOT EXISTS (SELECT 1 FROM {previous} x WHERE x.consumer = $1::text AND x.message_id = u.id) END " +
                "ORDER BY u.ord ON CONFLICT DO NOTHING RETURNING message_id) " +
                "SELECT c.generation, c.settling, n.message_id, p.message_id IS NOT NULL FROM c LEFT JOIN n ON true LEFT JOIN p ON p.message_id = n.message_id";

        }

        // For a lookup with no generation remembered: by the generation as the database has it, not as cached.
        _selectFingerprintsAny = "WITH c AS (SELECT generation % 3 AS s, settling FROM " + control + " WHERE id = 1) " + string.Join(
            " UNION ALL ",
            Enumerable.Range(0, InboxGenerations.Tables).Select(slot =>
                $"SELECT r.message_id, r.fingerprint FROM {recordTables[slot]} r, c WHERE (c.settling OR c.s IN ({slot}, {(slot + 1) % InboxGenerations.Tables})) " +
                "AND r.consumer = $1 AND r.message_id = ANY($2)"));
    }

    public override IsolationLevel IsolationLevel => IsolationLevel.ReadCommitted;

    public override async Task<bool> TryInsertAsync(DbContext db, string consumer, string messageId, DateTimeOffset processedAt, byte[]? fingerprint, CancellationToken cancellationToken)
    {
        while (true)
        {
            var generation = await GenerationAsync(db, cancellationToken).ConfigureAwait(false);
            await using var batch = CreateWriterBatch(db, _insertOne[Slot(generation)], consumer, messageId, processedAt, fingerprint, generation);
            await batch.PrepareAsync(cancellationToken).ConfigureAwait(false);
            await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                throw MissingControlRow();
            }

            var seen = reader.GetInt64(0);
            if (seen != generation)
            {
                Volatile.Write(ref _generation, seen);
                continue;
            }

            var settling = reader.GetBoolean(1);
            var recorded = reader.GetBoolean(2) && (!settling || reader.GetBoolean(3));
            if (!recorded)
            {
                RememberUnitGeneration(db, generation);
            }

            return recorded;
        }
    }

    public override async Task<HashSet<string>> InsertManyAsync(DbContext db, string consumer, IReadOnlyList<InboxMessage> sortedMessages, DateTimeOffset processedAt, CancellationToken cancellationToken)
    {
        var (ids, fingerprints) = Columns(sortedMessages);

        while (true)
        {
            var generation = await GenerationAsync(db, cancellationToken).ConfigureAwait(false);
            await using var batch = CreateWriterBatch(db, _insertMany[Slot(generation)], consumer, ids, processedAt, fingerprints, generation);
            await batch.PrepareAsync(cancellationToken).ConfigureAwait(false);
            await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            var inserted = new HashSet<string>(ids.Length, StringComparer.Ordinal);
            var seen = -1L;
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                seen = reader.GetInt64(0);
                if (!reader.IsDBNull(2) && (!reader.GetBoolean(1) || reader.GetBoolean(3)))
                {
                    inserted.Add(reader.GetString(2));
                }
            }

            if (seen < 0)
            {
                throw MissingControlRow();
            }

            if (seen != generation)
            {
                Volatile.Write(ref _generation, seen);
                continue;
            }

            if (inserted.Count < ids.Length)
            {
                RememberUnitGeneration(db, generation);
            }

            return inserted;
        }
    }

    public override async Task<Dictionary<string, byte[]?>> GetFingerprintsAsync(DbContext db, string consumer, IReadOnlyList<string> messageIds, CancellationToken cancellationToken)
    {
        await using var command = CreateCommand(db, db.Database.CurrentTransaction is { } transaction && _unitGenerations.TryGetValue(transaction, out var unit) ? _selectFingerprints[Slot(unit.Value)] : _selectFingerprintsAny);
        AddParameter(command, "", consumer);
        AddParameter(command, "", messageIds.ToArray());
        return await ReadFingerprintsAsync(command, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The start of the oldest generation whose table still holds records: no record is older.</summary>
    /// <summary>Retention by generations: rotation and settling instead of row deletion.</summary>
    public override InboxRetentionStrategy Retention => field ??= new GenerationRetention(this);

    public override Task<DateTimeOffset?> GetOldestAsync(DbContext db, CancellationToken cancellationToken)
        => OnConnectionAsync(db, async () =>
        {
            var state = await ReadStateAsync(db, cancellationToken).ConfigureAwait(false);
            return state.Settling ? state.OldestStartedAt ?? state.PreviousStartedAt ?? state.StartedAt : state.PreviousStartedAt ?? state.StartedAt;
        }, cancellationToken);

    /// <summary>Per consumer, over the three generations' tables.</summary>
    public override Task<List<(string Consumer, long Records, DateTimeOffset? Oldest)>> CountByConsumerAsync(DbContext db, CancellationToken cancellationToken)
        => ReadCountsAsync(
            db,
            "SELECT consumer, count(*), min(processed_at) FROM (" +
            string.Join(" UNION ALL ", _recordTables.Select(t => $"SELECT consumer, processed_at FROM {t}")) +
            ") r GROUP BY consumer ORDER BY consumer",
            cancellationToken);

    /// <summary>Deletes the ID from every generation's table, in one statement.</summary>
    public override Task<int> DeleteAsync(DbContext db, string consumer, string messageId, CancellationToken cancellationToken)
        => OnConnectionAsync(db, async () =>
        {
            await using var command = MessageCommand(
                db,
                "WITH " + string.Join(", ", _recordTables.Select((t, i) => $"d{i} AS (DELETE FROM {t} WHERE consumer = $1 AND message_id = $2 RETURNING 1)")) +
                " SELECT " + string.Join(" + ", _recordTables.Select((_, i) => $"(SELECT count(*) FROM d{i})")),
                consumer,
                messageId);
            return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
        }, cancellationToken);

    /// <summary>The current generation, as the control row has it.</summary>
    public Task<long> GetGenerationAsync(DbContext db, CancellationToken cancellationToken)
        => OnConnectionAsync(db, async () => (await ReadStateAsync(db, cancellationToken).ConfigureAwait(false)).Generation, cancellationToken);

    /// <summary>
    /// One retention pass: each step in a transaction of its own, under the table's advisory lock so that one instance
    /// acts at a time and the others skip. Each round reads the control row, lets <see cref="GenerationRotation.Decide"/>
    /// choose the step, and takes it: start the first generation's clock, settle the current generation once no unit
    /// that began before it is left (truncating the expired table), make the next generation current once the current
    /// one is <paramref name="window"/> old. Waits up to <paramref name="settleWait"/> for settling in this pass.
    /// </summary>
    /// <returns>About how many records were truncated, or -1 when another instance holds the table.</returns>
    public async Task<long> RetireAsync(DbContext db, TimeProvider time, TimeSpan window, TimeSpan settleWait, Action<GenerationEvent> report, CancellationToken cancellationToken)
    {
        long truncated = 0;
        var started = time.GetTimestamp();
        while (true)
        {
            var transaction = await db.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                // The lock first, then the state in a statement of its own: its snapshot then sees whatever the
                // instance that held the lock before committed. Every step is also guarded by the state it was decided
                // on (GuardedAsync), so that a step taken on a stale reading changes nothing.
                if (!await TryLockAsync(db, cancellationToken).ConfigureAwait(false))
                {
                    return -1;
                }

                var state = await ReadStateAsync(db, cancellationToken).ConfigureAwait(false);
                var now = time.GetUtcNow();
                switch (GenerationRotation.Decide(state, now, window))
                {
                    case GenerationStep.StartClock:
                        await GuardedAsync(db, state, "started_at = $4", cancellationToken, now).ConfigureAwait(false);
                        break;

                    case GenerationStep.TakeSettleId:
                        // Taken now, after the switch committed: every unit that read the previous generation has a lower ID.
                        await GuardedAsync(db, state, "settle_after = pg_current_xact_id()::text::bigint", cancellationToken).ConfigureAwait(false);
                        break;

                    case GenerationStep.Truncate:
                        var settling = time.GetTimestamp();
                        var (outcome, count) = await TruncateExpiredAsync(db, state, cancellationToken).ConfigureAwait(false);
                        if (outcome != Truncation.Done)
                        {
                            await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
                            if (outcome == Truncation.Moved)
                            {
                                continue;
                            }

                            report(new GenerationEvent(GenerationEventKind.TruncateBusy, state.Generation, 0, TimeSpan.Zero));
                            return truncated;
                        }

                        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                        truncated += count;
                        report(new GenerationEvent(GenerationEventKind.Settled, state.Generation, count, time.GetElapsedTime(settling)));
                        continue;

                    case GenerationStep.WaitForSettling:
                        await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
                        if (time.GetElapsedTime(started) >= settleWait)
                        {
                            report(new GenerationEvent(GenerationEventKind.StillSettling, state.Generation, 0, now - state.StartedAt!.Value));
                            return truncated;
                        }

                        await Task.Delay(TimeSpan.FromMilliseconds(50), time, cancellationToken).ConfigureAwait(false);
                        continue;

                    case GenerationStep.Rotate:
                        const string Next = "generation = generation + 1, oldest_started_at = previous_started_at, previous_started_at = started_at, " +
                            "started_at = $4, settling = true, settle_after = NULL";
                        if (await GuardedAsync(db, state, Next, cancellationToken, now).ConfigureAwait(false))
                        {
                            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                            report(new GenerationEvent(GenerationEventKind.Rotated, state.Generation + 1, 0, TimeSpan.Zero));
                        }

                        continue;

                    default:
                        return truncated;
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Truncates the expired table (the one before the previous generation's) and ends settling, in the current
    /// transaction, which the caller commits only when <see cref="Truncation.Done"/>: then with about how many records the
    /// table held. <see cref="Truncation.Moved"/>: the control row moved on meanwhile; <see cref="Truncation.Busy"/>: a
    /// unit still holds the table's lock.
    /// </summary>
    private async Task<(Truncation Outcome, long Count)> TruncateExpiredAsync(DbContext db, GenerationState state, CancellationToken cancellationToken)
    {
        var expired = _recordTables[Slot(state.Generation + 1)];
        try
        {
            await ExecuteAsync(db, $"SET LOCAL lock_timeout = '{TruncateLockTimeout}'", cancellationToken).ConfigureAwait(false);
            var count = await ScalarAsync(db, "SELECT coalesce((SELECT n_live_tup FROM pg_stat_user_tables WHERE relid = $1::regclass), 0)", cancellationToken, expired).ConfigureAwait(false);
            await ExecuteAsync(db, $"TRUNCATE {expired}", cancellationToken).ConfigureAwait(false);
            return await GuardedAsync(db, state, "settling = false, settle_after = NULL", cancellationToken).ConfigureAwait(false)
                ? (Truncation.Done, count)
                : (Truncation.Moved, 0);
        }
        catch (DbException exception) when (exception.SqlState == "55P03")
        {
            return (Truncation.Busy, 0);
        }
    }

    /// <summary>
    /// Updates the control row only if it is still in <paramref name="state"/> (generation, settling flag and settle ID
    /// as read); returns whether it did. <c>$1</c> to <c>$3</c> are the guard's; <paramref name="values"/> start at <c>$4</c>.
    /// </summary>
    private async Task<bool> GuardedAsync(DbContext db, GenerationState state, string set, CancellationToken cancellationToken, params object[] values)
    {
        await using var command = CreateCommand(
            db,
            $"UPDATE {_control} SET {set} WHERE id = 1 AND generation = $1 AND settling = $2 AND settle_after IS NOT DISTINCT FROM $3");
        AddParameter(command, "", state.Generation);
        AddParameter(command, "", state.Settling);
        AddParameter(command, "", state.SettleAfter is { } settleAfter ? settleAfter : DBNull.Value);
        foreach (var value in values)
        {
            AddParameter(command, "", value);
        }
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    private async Task<bool> TryLockAsync(DbContext db, CancellationToken cancellationToken)
    {
        await using var command = CreateCommand(db, "SELECT pg_try_advisory_xact_lock(hashtext($1))");
        AddParameter(command, "", "inbox-generations:" + Names.QualifiedName);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is true;
    }

    private void RememberUnitGeneration(DbContext db, long generation)
    {
        if (db.Database.CurrentTransaction is { } transaction)
        {
            _unitGenerations.AddOrUpdate(transaction, new StrongBox<long>(generation));
        }
    }

    private static int Slot(long generation) => (int)(generation % InboxGenerations.Tables);

    private InvalidOperationException MissingControlRow() => new(
        $"The inbox table {_control} has no row: it is seeded by the model (modelBuilder.AddInbox with Retention = Generations). " +
        "Apply the migration that creates it, or insert (id, generation, settling) = (1, 0, false).");

    private async Task<long> GenerationAsync(DbContext db, CancellationToken cancellationToken)
    {
        var generation = Volatile.Read(ref _generation);
        if (generation >= 0)
        {
            return generation;
        }

        var state = await ReadStateAsync(db, cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _generation, state.Generation);
        return state.Generation;
    }

    /// <summary>
    /// The transaction's ID first, then the insert in a statement of its own (so with a later snapshot): one round trip.
    /// A unit whose insert saw generation C-1 thus has an ID below any taken after C became current.
    /// </summary>
    private static DbBatch CreateWriterBatch(DbContext db, string sql, string consumer, object ids, DateTimeOffset processedAt, object? fingerprints, long generation)
    {
        var batch = db.Database.GetDbConnection().CreateBatch();
        batch.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
        if (db.Database.GetCommandTimeout() is { } timeout)
        {
            batch.Timeout = timeout;
        }

        var xid = batch.CreateBatchCommand();
        xid.CommandText = "SELECT pg_current_xact_id()";
        batch.BatchCommands.Add(xid);

        var insert = batch.CreateBatchCommand();
        insert.CommandText = sql;
        foreach (var value in new[] { consumer, ids, processedAt, fingerprints, generation })
        {
            var parameter = insert.CreateParameter();
            parameter.Value = value ?? DBNull.Value;
            insert.Parameters.Add(parameter);
        }

        batch.BatchCommands.Add(insert);
        return batch;
    }

    private async Task<GenerationState> ReadStateAsync(DbContext db, CancellationToken cancellationToken)
    {
        await using var command = CreateCommand(
            db,
            "SELECT generation, started_at, previous_started_at, oldest_started_at, settling, settle_after, " +
            $"pg_snapshot_xmin(pg_current_snapshot())::text::bigint FROM {_control} WHERE id = 1");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            throw MissingControlRow();
        }

        return new GenerationState(
            reader.GetInt64(0),
            reader.IsDBNull(1) ? null : reader.GetFieldValue<DateTimeOffset>(1),
            reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2),
            reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3),
            reader.GetBoolean(4),
            reader.IsDBNull(5) ? null : reader.GetInt64(5),
            reader.GetInt64(6));
    }

    private static async Task ExecuteAsync(DbContext db, string sql, CancellationToken cancellationToken, params object[] values)
    {
        await using var command = CreateCommand(db, sql);
        foreach (var value in values)
        {
            AddParameter(command, "", value);
        }

        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<long> ScalarAsync(DbContext db, string sql, CancellationToken cancellationToken, params object[] values)
    {
        await using var command = CreateCommand(db, sql);
        foreach (var value in values)
        {
            AddParameter(command, "", value);
        }

        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
    }

    private enum Truncation
    {
        Done,
        Moved,
        Busy,
    }
}
