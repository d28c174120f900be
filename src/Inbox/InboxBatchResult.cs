namespace Inbox;

/// <summary>The results of <see cref="IInbox{TDbContext}.ProcessBatchAsync"/>, one per input message, in input order.</summary>
public sealed class InboxBatchResult
{
    private readonly InboxBatchItemResult[] _items;

    internal InboxBatchResult(InboxBatchItemResult[] items) => _items = items;

    /// <summary>Gets the result for each input message, in input order.</summary>
    public IReadOnlyList<InboxBatchItemResult> Items => _items;

    /// <summary>Gets how many messages were processed.</summary>
    public int Processed => Count(static r => r.Error is null && r.Outcome == InboxOutcome.Processed);

    /// <summary>Gets how many messages were skipped as duplicates.</summary>
    public int Duplicates => Count(static r => r.Error is null && r.Outcome == InboxOutcome.Duplicate);

    /// <summary>Gets how many messages were skipped as conflicts.</summary>
    public int Conflicts => Count(static r => r.Error is null && r.Outcome == InboxOutcome.Conflict);

    /// <summary>Gets how many messages failed: their handler threw, or their ID or send time was rejected.</summary>
    public int Failed => Count(static r => r.Error is not null);

    private int Count(Func<InboxBatchItemResult, bool> predicate)
    {
        var count = 0;
        foreach (var item in _items)
        {
            if (predicate(item))
            {
                count++;
            }
        }

        return count;
    }
}
