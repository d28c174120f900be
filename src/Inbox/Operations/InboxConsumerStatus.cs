namespace Inbox.Operations;

/// <summary>The inbox records of one consumer.</summary>
public sealed class InboxConsumerStatus
{
    internal InboxConsumerStatus(string table, string consumer, long records, DateTimeOffset? oldest)
    {
        Table = table;
        Consumer = consumer;
        Records = records;
        Oldest = oldest;
    }

    /// <summary>Gets the inbox table's schema-qualified name.</summary>
    public string Table { get; }

    /// <summary>Gets the consumer's name.</summary>
    public string Consumer { get; }

    /// <summary>Gets how many message IDs are recorded for it (under generations, summed over the generations' tables).</summary>
    public long Records { get; }

    /// <summary>Gets when the oldest of them was processed.</summary>
    public DateTimeOffset? Oldest { get; }
}
