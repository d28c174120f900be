using Inbox.Storage;
using Microsoft.EntityFrameworkCore;

namespace Inbox.Processing.Units;

/// <summary>
/// A batch's unit of work, run once: begin → record every new ID in one statement (sorted, so two batches sharing IDs
/// lock them in one order) → look up the known ones that may conflict or are held back as late → handler with the new
/// messages → SaveChanges → commit. The batch's bookkeeping (<see cref="InboxBatch{TMessage}"/>) holds the results.
/// </summary>
internal static class BatchTransaction
{
    public static async Task<bool> RunOnceAsync<TDbContext, TMessage>(
        TDbContext db,
        InboxDialect dialect,
        InboxBatch<TMessage> batch,
        Func<TDbContext, IReadOnlyList<TMessage>, CancellationToken, Task> handler,
        TimeProvider time,
        CancellationToken cancellationToken)
        where TDbContext : DbContext
    {
        batch.Reset();
        var transaction = await UnitStrategy<TDbContext>.BeginAsync(db, dialect, cancellationToken).ConfigureAwait(false);
        await using (transaction.ConfigureAwait(false))
        {
            try
            {
                var insertable = batch.SortedInsertable();
                var inserted = insertable.Length == 0
                    ? []
                    : await dialect.InsertManyAsync(db, batch.Consumer, insertable, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
                var known = batch.MarkInserted(inserted);

                // Late messages the policy rejects are not recorded: they are looked up instead, so that a late
                // duplicate is still a duplicate and only a late message the inbox does not know is rejected.
                known.AddRange(batch.HeldBackIds());
                if (known.Count > 0 && (batch.HasFingerprints || batch.HasHeldBack))
                {
                    batch.MarkKnown(await dialect.GetFingerprintsAsync(db, batch.Consumer, known, cancellationToken).ConfigureAwait(false));
                }

                var fresh = batch.NewMessageValues();
                if (fresh.Count == 0)
                {
                    await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
                    return true;
                }

                batch.HandlerStarted = true;
                await handler(db, fresh, cancellationToken).ConfigureAwait(false);
                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                batch.MarkNewProcessed();
                return true;
            }
            catch
            {
                db.ChangeTracker.Clear();
                throw;
            }
        }
    }
}
