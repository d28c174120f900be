using System.Data.Common;
using System.Runtime.CompilerServices;
using Inbox.Outbox.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Inbox.Outbox.Writing;

/// <summary>
/// Sees the application's SaveChanges and transactions on a DbContext with an outbox. When outbox rows are saved it
/// stamps their time, and on PostgreSQL locks their keys for the transaction and inserts them in one statement, so that
/// per key rows get their IDs in commit order. A SaveChanges outside a transaction is run again, inside the DbContext's
/// execution strategy, in a transaction of its own that holds the locks (a retrying strategy such as Npgsql's
/// <c>EnableRetryOnFailure</c> refuses a transaction opened anywhere else). When the transaction that saved the rows
/// commits, it wakes the dispatcher. Rows whose save failed are handed back to the change tracker, as EF Core leaves its
/// own entities, so that a caller who saves again saves them too.
/// </summary>
internal sealed class OutboxSaveInterceptor<TDbContext>(TimeProvider time, OutboxSignal<TDbContext> signal) : SaveChangesInterceptor, IDbTransactionInterceptor
    where TDbContext : DbContext
{
    private static readonly ConditionalWeakTable<DbContext, State> States = [];

    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        var db = eventData.Context;
        if (db is null || result.HasResult)
        {
            return result;
        }

        if (NeedsOwnTransaction(db))
        {
            var state = States.GetOrCreateValue(db);
            var saved = db.Database.CreateExecutionStrategy().Execute(state, state =>
            {
                using var transaction = db.Database.BeginTransaction();
                using var save = new OwnSave(db, state);
                var count = db.SaveChanges(acceptAllChangesOnSuccess: false);
                transaction.Commit();
                save.Committed();
                return count;
            });
            return Saved(db, saved);
        }

        if (Prepare(db) is { } rows)
        {
            OutboxStore.For(db).Insert(db, rows);
        }

        return result;
    }

    public override async ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        var db = eventData.Context;
        if (db is null || result.HasResult)
        {
            return result;
        }

        if (NeedsOwnTransaction(db))
        {
            var state = States.GetOrCreateValue(db);
            var saved = await db.Database.CreateExecutionStrategy().ExecuteAsync(state, static async (db, state, ct) =>
            {
                var transaction = await db.Database.BeginTransactionAsync(ct).ConfigureAwait(false);
                await using (transaction.ConfigureAwait(false))
                {
                    using var save = new OwnSave(db, state);
                    var count = await db.SaveChangesAsync(acceptAllChangesOnSuccess: false, ct).ConfigureAwait(false);
                    await transaction.CommitAsync(ct).ConfigureAwait(false);
                    save.Committed();
                    return count;
                }
            }, verifySucceeded: null, cancellationToken).ConfigureAwait(false);
            return Saved(db, saved);
        }

        if (Prepare(db) is { } rows)
        {
            await OutboxStore.For(db).InsertAsync(db, rows, cancellationToken).ConfigureAwait(false);
        }

        return result;
    }

    public override int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        Completed(eventData.Context);
        return result;
    }

    public override ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        Completed(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public override void SaveChangesFailed(DbContextErrorEventData eventData) => Failed(eventData.Context);

    public override Task SaveChangesFailedAsync(DbContextErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        Failed(eventData.Context);
        return Task.CompletedTask;
    }

    public void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => Committed(eventData.Context);

    public Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Committed(eventData.Context);
        return Task.CompletedTask;
    }

    public void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => Forget(eventData.Context);

    public Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Forget(eventData.Context);
        return Task.CompletedTask;
    }

    private static bool HasOutboxRows(DbContext db)
    {
        foreach (var entry in db.ChangeTracker.Entries<OutboxRecord>())
        {
            if (entry.State == EntityState.Added)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// PostgreSQL locks a row's key in the transaction that inserts it, so a save outside a transaction needs one of
    /// its own. It is opened inside the execution strategy, where a retrying strategy allows it; SQLite needs none.
    /// </summary>
    private static bool NeedsOwnTransaction(DbContext db)
        => db.Database.CurrentTransaction is null && System.Transactions.Transaction.Current is null &&
            HasOutboxRows(db) && OutboxStore.For(db).InsertsRows;

    /// <summary>
    /// The save ran again inside the strategy and committed: the application's call is answered with its count, and its
    /// entities accepted as SaveChanges would have. (A caller who passes <c>acceptAllChangesOnSuccess: false</c> opens
    /// its own transaction, following EF Core's pattern for retrying strategies, and never gets here.)
    /// </summary>
    private static InterceptionResult<int> Saved(DbContext db, int count)
    {
        db.ChangeTracker.AcceptAllChanges();
        return InterceptionResult<int>.SuppressWithResult(count);
    }

    /// <summary>
    /// Stamps the outbox rows about to be saved. On PostgreSQL it takes them from EF Core's change tracker and returns
    /// them, to be inserted in one statement, after their keys are locked, in the transaction the rest of the save joins;
    /// they are kept until the save completes, to be handed back if it fails. On SQLite (one writer at a time, no key
    /// locks needed) EF Core inserts them.
    /// </summary>
    private List<OutboxRecord>? Prepare(DbContext db)
    {
        var now = time.GetUtcNow();
        List<EntityEntry<OutboxRecord>>? added = null;
        foreach (var entry in db.ChangeTracker.Entries<OutboxRecord>())
        {
            if (entry.State == EntityState.Added)
            {
                entry.Entity.CreatedAt = now;
                (added ??= []).Add(entry);
            }
        }

        if (added is null)
        {
            return null;
        }

        var state = States.GetOrCreateValue(db);
        state.Written = true;
        if (!OutboxStore.For(db).InsertsRows)
        {
            return null;
        }

        added.Sort(static (a, b) => a.Entity.Sequence.CompareTo(b.Entity.Sequence));
        var rows = added.ConvertAll(static e => e.Entity);
        added.ForEach(static e => e.State = EntityState.Detached);
        state.Detached = rows;
        return rows;
    }

    private void Completed(DbContext? db)
    {
        if (db is null || !States.TryGetValue(db, out var state))
        {
            return;
        }

        // Inside this interceptor's own transaction the rows are kept until it commits: a failed commit hands them back.
        if (!state.OwnTransaction)
        {
            state.Detached = null;
        }

        // No transaction left open: the rows are committed (in SaveChanges' own transaction, or in none at all).
        if (state.Written && db.Database.CurrentTransaction is null)
        {
            state.Written = false;
            signal.Set();
        }
    }

    private static void Failed(DbContext? db)
    {
        if (db is not null && States.TryGetValue(db, out var state))
        {
            Restore(db, state);
            if (db.Database.CurrentTransaction is null)
            {
                state.Written = false;
            }
        }
    }

    /// <summary>Hands the rows of a failed save back to the change tracker as added, as EF Core leaves its own entities.</summary>
    private static void Restore(DbContext db, State state)
    {
        if (state.Detached is { } rows)
        {
            state.Detached = null;
            foreach (var row in rows)
            {
                db.Entry(row).State = EntityState.Added;
            }
        }
    }

    private void Committed(DbContext? db)
    {
        if (db is not null && States.TryGetValue(db, out var state) && state.Written)
        {
            state.Written = false;
            signal.Set();
        }
    }

    private static void Forget(DbContext? db)
    {
        if (db is not null && States.TryGetValue(db, out var state))
        {
            state.Written = false;
        }
    }

    /// <summary>
    /// One attempt of a save run again in this interceptor's own transaction: while it lasts, the rows the save takes from
    /// the change tracker are kept; unless it committed, they are handed back when it ends (for the strategy's next
    /// attempt, or for the caller).
    /// </summary>
    private sealed class OwnSave : IDisposable
    {
        private readonly DbContext _db;
        private readonly State _state;
        private bool _committed;

        public OwnSave(DbContext db, State state)
        {
            _db = db;
            _state = state;
            state.OwnTransaction = true;
        }

        public void Committed() => _committed = true;

        public void Dispose()
        {
            if (!_committed)
            {
                Restore(_db, _state);
            }

            _state.OwnTransaction = false;
            _state.Detached = null;
        }
    }

    private sealed class State
    {
        /// <summary>Outbox rows were saved and not yet committed or rolled back.</summary>
        public bool Written { get; set; }

        /// <summary>The rows taken from the change tracker by the save under way, to be handed back if it fails.</summary>
        public List<OutboxRecord>? Detached { get; set; }

        /// <summary>A save runs again inside the transaction this interceptor opened, until that transaction ends.</summary>
        public bool OwnTransaction { get; set; }
    }
}
