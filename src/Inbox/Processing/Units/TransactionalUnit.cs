using Microsoft.EntityFrameworkCore;

namespace Inbox.Processing.Units;

/// <summary>
/// The unit of work in an explicit transaction, the default. Order matters and is fixed here: begin → insert the inbox
/// record (its primary key is the lock a concurrent copy waits on) → handler → SaveChanges → commit. A known ID rolls
/// back before the handler runs.
/// </summary>
internal sealed class TransactionalUnit<TDbContext>(TimeProvider time, UnitHooks hooks) : UnitStrategy<TDbContext>(time)
    where TDbContext : DbContext
{
    public override async Task<UnitOutcome> RunOnceAsync(TDbContext db, InboxUnit<TDbContext> unit, CancellationToken cancellationToken)
    {
        var (dialect, consumer, message, handler, rejectLate) = unit;
        var transaction = await BeginAsync(db, dialect, cancellationToken).ConfigureAwait(false);
        await using (transaction.ConfigureAwait(false))
        {
            try
            {
                // An unrecorded message is the caller's to deduplicate and to prove, inside the handler's transaction.
                if (!message.Unrecorded &&
                    !await dialect.TryInsertAsync(db, consumer, message.MessageId, Time.GetUtcNow(), message.Fingerprint, cancellationToken).ConfigureAwait(false))
                {
                    // Only a message with a fingerprint can conflict, so only then is the record looked up.
                    var outcome = message.Fingerprint is null
                        ? UnitOutcome.Duplicate
                        : await KnownAsync(db, dialect, consumer, message, cancellationToken).ConfigureAwait(false) ?? UnitOutcome.Duplicate;

                    await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
                    return outcome;
                }

                // Insert first, then judge lateness: a late message the inbox knows is a duplicate, not a rejection.
                if (rejectLate)
                {
                    await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
                    return UnitOutcome.RejectedLate;
                }

                await handler(db, cancellationToken).ConfigureAwait(false);
                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                hooks.BeforeCommit?.Invoke(db);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return UnitOutcome.Processed;
            }
            catch
            {
                // A failed attempt's tracked entities must not leak into the next attempt or the next message.
                db.ChangeTracker.Clear();
                throw;
            }
        }
    }
}
