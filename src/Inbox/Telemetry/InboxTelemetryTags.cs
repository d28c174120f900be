namespace Inbox.Telemetry;

/// <summary>Tag keys, following the OpenTelemetry messaging conventions where one applies.</summary>
internal static class InboxTelemetryTags
{
    public const string Consumer = "messaging.consumer.group.name";
    public const string MessageId = "messaging.message.id";
    public const string BatchCount = "messaging.batch.message_count";
    public const string Outcome = "inbox.outcome";
    public const string Table = "inbox.table";

    /// <summary>An operator's action (<c>IInboxAdmin</c>).</summary>
    public const string Action = "inbox.admin.action";
}
