using Inbox.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Inbox.Processing.Units;

/// <summary>
/// One way of running a unit of work once, on a clean change tracker, inside the execution strategy and the store retry
/// that <see cref="UnitRunner{TDbContext}"/> wraps around it. What the ways share is here.
/// </summary>
internal abstract class UnitStrategy<TDbContext>(TimeProvider time)
    where TDbContext : DbContext
{
    protected TimeProvider Time => time;

    /// <summary>Runs the unit once; a failure propagates with the change tracker cleared.</summary>
    public abstract Task<UnitOutcome> RunOnceAsync(TDbContext db, InboxUnit<TDbContext> unit, CancellationToken cancellationToken);

    /// <summary>Duplicate or Conflict when the ID is recorded already; null when it is new.</summary>
    public static async Task<UnitOutcome?> KnownAsync(DbContext db, InboxDialect dialect, string consumer, InboxMessage message, CancellationToken cancellationToken)
    {
        var stored = await dialect.GetFingerprintsAsync(db, consumer, [message.MessageId], cancellationToken).ConfigureAwait(false);
        if (!stored.TryGetValue(message.MessageId, out var fingerprint))
        {
            return null;
        }

        return message.Fingerprint is { } mine && InboxFingerprint.Differs(fingerprint, mine) ? UnitOutcome.Conflict : UnitOutcome.Duplicate;
    }

    /// <summary>Begins the unit's transaction on a clean change tracker, at the dialect's isolation level.</summary>
    public static async Task<IDbContextTransaction> BeginAsync(DbContext db, InboxDialect dialect, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        var transaction = await db.Database.BeginTransactionAsync(dialect.IsolationLevel, cancellationToken).ConfigureAwait(false);

        // SaveChanges inside our transaction would otherwise wrap itself in a savepoint: two more round trips per
        // message for nothing, since a failure rolls the whole unit back anyway. Restored when the unit ends.
        return new SavepointsOff(db, transaction);
    }
}
