using Confluent.Kafka;
using Inbox.Kafka.Consuming;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Inbox.Kafka.Tests.Consuming;

public sealed class OffsetCommitterTests
{
    [Fact]
    public void CommitIfDue_AutoCommitOff_CommitsOncePerInterval()
    {
        var kafka = new FakeKafkaClient();
        var time = new FakeTimeProvider();
        var sut = new OffsetCommitter(kafka, manualCommit: true, TimeSpan.FromSeconds(5), time, NullLogger.Instance, "test");

        sut.CommitIfDue();
        time.Advance(TimeSpan.FromSeconds(4));
        sut.CommitIfDue();
        Assert.Equal(0, kafka.Commits);

        time.Advance(TimeSpan.FromSeconds(1));
        sut.CommitIfDue();
        sut.CommitIfDue();
        Assert.Equal(1, kafka.Commits);
    }

    [Fact]
    public void CommitIfDue_AutoCommitOn_LeavesItToLibrdkafka()
    {
        var kafka = new FakeKafkaClient();
        var time = new FakeTimeProvider();
        var sut = new OffsetCommitter(kafka, manualCommit: false, TimeSpan.FromSeconds(5), time, NullLogger.Instance, "test");

        time.Advance(TimeSpan.FromMinutes(1));
        sut.CommitIfDue();

        Assert.Equal(0, kafka.Commits);
    }

    [Theory]
    [InlineData(ErrorCode.Local_NoOffset)]
    [InlineData(ErrorCode.RebalanceInProgress)]
    [InlineData(ErrorCode.Local_State)]
    public void CommitAndStore_KafkaRefuses_IsNotFatal(ErrorCode code)
    {
        var kafka = new FakeKafkaClient { FailCommitWith = code, FailStoreWith = code };
        var sut = new OffsetCommitter(kafka, manualCommit: true, TimeSpan.FromSeconds(5), new FakeTimeProvider(), NullLogger.Instance, "test");

        sut.Store(new TopicPartitionOffset("orders", 0, 10));
        sut.Commit();

        Assert.Equal(1, kafka.Commits);
    }
}
