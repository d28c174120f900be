using System.Data.Common;
using System.Runtime.CompilerServices;
using Inbox.Outbox.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Storage;

namespace Inbox.Outbox.Writing;

/// <summary>
/// Sees the application's SaveChanges and transactions on a DbContext with an outbox. When outbox rows are saved it
/// stamps their time, and on PostgreSQL locks their keys for the transaction and inserts them in one statement (opening
/// a transaction around SaveChanges if the application has none), so that per key rows get their IDs in commit order.
/// When the transaction that saved them commits, it wakes the dispatcher.
/// </summary>
internal sealed class OutboxSaveInterceptor<TDbContext>(TimeProvider time, OutboxSignal<TDbContext> signal) : SaveChangesInterceptor, IDbTransactionInterceptor
    where TDbContext : DbContext
{
    private static readonly ConditionalWeakTable<DbContext, State> States = [];

    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        if (Prepare(eventData.Context) is { } rows)
        {
            var (db, state, records) = rows;
            state.Own = db.Database.CurrentTransaction is null ? db.Database.BeginTransaction() : null;
            OutboxStore.For(db).Insert(db, records);
        }

        return result;
    }

    public override async ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        if (Prepare(eventData.Context) is { } rows)
        {
            var (db, state, records) = rows;
            state.Own = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false) : null;
            await OutboxStore.For(db).InsertAsync(db, records, cancellationToken).ConfigureAwait(false);
        }

        return result;
    }

    public override int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        if (eventData.Context is { } db && States.TryGetValue(db, out var state))
        {
            state.Own?.Commit();
            Saved(db, state);
        }

        return result;
    }

    public override async ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        if (eventData.Context is { } db && States.TryGetValue(db, out var state))
        {
            if (state.Own is { } own)
            {
                await own.CommitAsync(cancellationToken).ConfigureAwait(false);
            }

            Saved(db, state);
        }

        return result;
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

    /// <summary>
    /// Stamps the outbox rows about to be saved. On PostgreSQL it takes them from EF Core's change tracker and returns
    /// them, to be inserted in one statement, after their keys are locked, in a transaction the rest of the save joins.
    /// On SQLite (one writer at a time, no key locks needed) EF Core inserts them.
    /// </summary>
    private (DbContext Db, State State, List<OutboxRecord> Rows)? Prepare(DbContext? db)
    {
        if (db is null)
        {
            return null;
        }

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
        if (!OutboxStore.For(db).IsPostgres)
        {
            return null;
        }

        var rows = added.ConvertAll(static e => e.Entity);
        added.ForEach(static e => e.State = EntityState.Detached);
        return (db, state, rows);
    }

    private void Saved(DbContext db, State state)
    {
        var own = state.Own;
        state.Own = null;
        own?.Dispose();

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
            var own = state.Own;
            state.Own = null;
            own?.Dispose();
            if (db.Database.CurrentTransaction is null)
            {
                state.Written = false;
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

    private sealed class State
    {
        /// <summary>Outbox rows were saved and not yet committed or rolled back.</summary>
        public bool Written { get; set; }

        /// <summary>The transaction this interceptor opened around SaveChanges to hold the key locks, if any.</summary>
        public IDbContextTransaction? Own { get; set; }
    }
}
