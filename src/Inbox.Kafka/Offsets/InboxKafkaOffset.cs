namespace Inbox.Kafka.Offsets;

/// <summary>The next offset to consume of one partition, for one inbox consumer.</summary>
internal sealed class InboxKafkaOffset
{
    public string Consumer { get; set; } = "";

    public string Topic { get; set; } = "";

    public int Partition { get; set; }

    public long NextOffset { get; set; }
}
