using Microsoft.EntityFrameworkCore;

namespace Inbox.Storage;

/// <summary>Writes inbox records for an adapter, in the DbContext's current transaction, through the store's dialect.</summary>
internal static class InboxRecords
{
    /// <summary>Records the messages' IDs (known ones are left as they are); returns the IDs that were new.</summary>
    public static Task<HashSet<string>> RecordAsync(DbContext db, string consumer, IEnumerable<InboxMessage> messages, DateTimeOffset processedAt, CancellationToken cancellationToken)
    {
        // Sorted, as every batch insert is, so that two transactions recording the same IDs lock them in one order.
        var sorted = messages.OrderBy(static m => m.MessageId, StringComparer.Ordinal).ToArray();
        return sorted.Length == 0
            ? Task.FromResult(new HashSet<string>(StringComparer.Ordinal))
            : InboxDialects.For(db).InsertManyAsync(db, consumer, sorted, processedAt, cancellationToken);
    }

    /// <summary>Returns which of the IDs are recorded.</summary>
    public static async Task<HashSet<string>> LookUpAsync(DbContext db, string consumer, IReadOnlyList<string> messageIds, CancellationToken cancellationToken)
        => [.. (await InboxDialects.For(db).GetFingerprintsAsync(db, consumer, messageIds, cancellationToken).ConfigureAwait(false)).Keys];
}
