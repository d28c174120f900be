using Inbox.Kafka.Offsets;
using Microsoft.EntityFrameworkCore;

namespace Inbox.Kafka.Tests;

public sealed class InboxKafkaModelBuilderExtensionsTests
{
    [Fact]
    public void AddInboxKafkaOffsets_TableAndSchemaGiven_MapsTheTableThere()
    {
        var modelBuilder = new ModelBuilder();

        modelBuilder.AddInboxKafkaOffsets(t =>
        {
            t.TableName = "offsets";
            t.Schema = "kafka";
        });

        var entity = modelBuilder.Model.FindEntityType(typeof(InboxKafkaOffset))!;
        Assert.Equal(("offsets", "kafka"), (entity.GetTableName(), entity.GetSchema()));
    }

    [Fact]
    public void AddInboxKafkaOffsets_Defaults_InboxKafkaOffsetsInTheDefaultSchema()
    {
        var modelBuilder = new ModelBuilder();

        modelBuilder.AddInboxKafkaOffsets();

        var entity = modelBuilder.Model.FindEntityType(typeof(InboxKafkaOffset))!;
        Assert.Equal(("inbox_kafka_offsets", null), (entity.GetTableName(), entity.GetSchema()));
    }

    [Fact]
    public void AddInboxKafkaOffsets_BlankTableName_ThrowsNamingTheOption()
    {
        var error = Assert.Throws<ArgumentException>(() => new ModelBuilder().AddInboxKafkaOffsets(t => t.TableName = " "));

        Assert.Equal("TableName", error.ParamName);
    }
}
