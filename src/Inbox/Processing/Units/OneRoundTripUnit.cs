using System.Runtime.ExceptionServices;
using Inbox.Model;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;

namespace Inbox.Processing.Units;

/// <summary>
/// <see cref="InboxOptions.OneRoundTrip"/>: look the ID up (as <see cref="InboxOptions.OneRoundTripLookup"/> says); if
/// it is not known, run the handler and save its writes with the inbox record as one batch without an explicit
/// transaction, which the engine runs as one implicit transaction (<c>StorageProvider.BatchIsOneTransaction</c>). A
/// delivery of the ID that committed first makes the batch fail on the record's primary key: nothing of it stays, and
/// the failure's lookup finds the winner.
/// </summary>
internal sealed class OneRoundTripUnit<TDbContext>(TimeProvider time, UnitHooks hooks, Func<InboxLookup> lookup) : UnitStrategy<TDbContext>(time)
    where TDbContext : DbContext
{
    // Changes that Npgsql's EF Core provider sends in one batch, with room to spare (its batches hold up to 1,000 commands).
    private const int OneBatch = 500;

    public override async Task<UnitOutcome> RunOnceAsync(TDbContext db, InboxUnit<TDbContext> unit, CancellationToken cancellationToken)
    {
        var (dialect, consumer, message, handler, rejectLate) = unit;
        db.ChangeTracker.Clear();

        // Opened here for the lookup and kept for the batch: the dialect's statements run on the context's connection.
        await db.Database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var automatic = db.Database.AutoTransactionBehavior;
        try
        {
            if (LooksFirst(message, rejectLate) && await KnownAsync(db, dialect, consumer, message, cancellationToken).ConfigureAwait(false) is { } known)
            {
                return known;
            }

            if (rejectLate)
            {
                return UnitOutcome.RejectedLate;
            }

            await handler(db, cancellationToken).ConfigureAwait(false);
            db.Add(new InboxRecord { Consumer = consumer, MessageId = message.MessageId, ProcessedAt = Time.GetUtcNow(), Fingerprint = message.Fingerprint });
            db.Database.AutoTransactionBehavior = SaveBehavior(db.ChangeTracker);
            hooks.BeforeCommit?.Invoke(db);
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            return UnitOutcome.Processed;
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested && InboxFailures.Classify(exception) != InboxFailureKind.Store)
        {
            // Nothing of the unit stayed. If the record is there now, the message was a duplicate: one that was not
            // looked up first, or a concurrent delivery that committed first. Whatever its handler threw against the
            // state the first delivery left (its own unique key, a rule it checks), it is a Duplicate, not a failure.
            // Otherwise the failure is the handler's own. A store failure goes to the store retry as it is.
            db.ChangeTracker.Clear();
            if (await KnownAsync(db, dialect, consumer, message, cancellationToken).ConfigureAwait(false) is { } winner)
            {
                return winner;
            }

            ExceptionDispatchInfo.Throw(exception);
            throw;
        }
        catch
        {
            db.ChangeTracker.Clear();
            throw;
        }
        finally
        {
            db.Database.AutoTransactionBehavior = automatic;
            await db.Database.CloseConnectionAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Whether the ID is looked up before the handler runs. A late message always is: a late duplicate is a duplicate, and only an unknown one is rejected.</summary>
    private bool LooksFirst(InboxMessage message, bool rejectLate)
        => rejectLate || lookup() switch
        {
            InboxLookup.Always => true,
            InboxLookup.WhenRedelivered => message.Redelivered,
            _ => false,
        };

    /// <summary>
    /// One batch is one implicit transaction, which the engine rolls back whole when a statement fails. Only inserts go
    /// that way: an update or delete that matches no row is no error to the server, so the batch would commit and EF Core
    /// would throw afterwards. Those, and more changes than fit one batch, get an explicit transaction.
    /// </summary>
    private static AutoTransactionBehavior SaveBehavior(ChangeTracker changes)
    {
        var pending = 0;
        foreach (var entry in changes.Entries())
        {
            if (entry.State is EntityState.Modified or EntityState.Deleted)
            {
                return AutoTransactionBehavior.WhenNeeded;
            }

            pending += entry.State == EntityState.Added ? 1 : 0;
        }

        return pending <= OneBatch ? AutoTransactionBehavior.Never : AutoTransactionBehavior.WhenNeeded;
    }
}
