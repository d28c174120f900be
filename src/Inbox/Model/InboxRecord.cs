namespace Inbox.Model;

/// <summary>One row of the inbox table: a message ID that a consumer has processed.</summary>
internal sealed class InboxRecord
{
    public string Consumer { get; set; } = "";

    public string MessageId { get; set; } = "";

    public DateTimeOffset ProcessedAt { get; set; }

    public byte[]? Fingerprint { get; set; }
}
