using System.Data.Common;
using Microsoft.EntityFrameworkCore.Storage;

namespace Inbox;

/// <summary>Classifies a failure once, for the core and every adapter: see <see cref="InboxFailureKind"/>.</summary>
public static class InboxFailures
{
    // PostgreSQL SQLSTATEs of a server that is going away, coming back or overloaded, beyond what Npgsql's own
    // IsTransient covers (it leaves out the shutdown codes a restart sends to open sessions):
    // class 08 connection exceptions, class 53 insufficient resources, 57P01 admin shutdown, 57P02 crash shutdown,
    // 57P03 cannot connect now, 58000/58030 system and I/O errors, 40001 serialization failure, 40P01 deadlock.
    private static readonly HashSet<string> TransientSqlStates = new(StringComparer.Ordinal)
    {
        "57P01", "57P02", "57P03", "58000", "58030", "40001", "40P01",
    };

    // SQLite result codes: SQLITE_BUSY and SQLITE_LOCKED (another connection holds the database), SQLITE_IOERR,
    // SQLITE_FULL, SQLITE_CANTOPEN. Read by name so that the core need not reference Microsoft.Data.Sqlite.
    private static readonly HashSet<int> TransientSqliteCodes = [5, 6, 10, 13, 14];

    /// <summary>
    /// Says whose fault <paramref name="exception"/> is. The exception and everything it wraps (inner exceptions,
    /// aggregate members) are looked at: EF Core wraps database errors in <c>DbUpdateException</c>,
    /// <see cref="RetryLimitExceededException"/> or an <see cref="InvalidOperationException"/>.
    /// </summary>
    /// <param name="exception">The failure.</param>
    /// <returns>
    /// <see cref="InboxFailureKind.Input"/> for <see cref="InvalidInboxInputException"/> and
    /// <see cref="LateMessageException"/>; <see cref="InboxFailureKind.Store"/> for a transient database failure;
    /// otherwise <see cref="InboxFailureKind.Handler"/>.
    /// </returns>
    public static InboxFailureKind Classify(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (exception is InvalidInboxInputException or LateMessageException)
        {
            return InboxFailureKind.Input;
        }

        return IsStoreFailure(exception, depth: 0) ? InboxFailureKind.Store : InboxFailureKind.Handler;
    }

    private static bool IsStoreFailure(Exception? exception, int depth)
    {
        for (; exception is not null && depth < 16; exception = exception.InnerException, depth++)
        {
            switch (exception)
            {
                case DbException db when IsTransient(db):
                case RetryLimitExceededException:
                    return true;
                case AggregateException aggregate:
                    return aggregate.InnerExceptions.Any(inner => IsStoreFailure(inner, depth + 1));
            }
        }

        return false;
    }

    private static bool IsTransient(DbException exception)
    {
        if (exception.IsTransient)
        {
            return true;
        }

        if (exception.SqlState is { Length: 5 } state &&
            (state.StartsWith("08", StringComparison.Ordinal) || state.StartsWith("53", StringComparison.Ordinal) || TransientSqlStates.Contains(state)))
        {
            return true;
        }

        return exception.GetType().FullName == "Microsoft.Data.Sqlite.SqliteException" &&
            exception.GetType().GetProperty("SqliteErrorCode")?.GetValue(exception) is int code &&
            TransientSqliteCodes.Contains(code);
    }
}
