namespace Inbox.Kafka;

/// <summary>Where the Kafka offsets table lives in the application's database. Used by <c>modelBuilder.AddInboxKafkaOffsets(...)</c>.</summary>
public sealed class InboxKafkaOffsetTableOptions
{
    /// <summary>Gets or sets the table name. Quoted as an identifier, never spliced into SQL raw.</summary>
    /// <value><c>inbox_kafka_offsets</c>. 1 to 63 characters, no control characters.</value>
    public string TableName { get; set; } = "inbox_kafka_offsets";

    /// <summary>Gets or sets the schema, or <see langword="null"/> for the model's default schema.</summary>
    /// <value><see langword="null"/>. When set, 1 to 63 characters, no control characters.</value>
    public string? Schema { get; set; }
}
