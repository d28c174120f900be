using Confluent.Kafka;
using Inbox.Kafka.Consuming;
using Inbox.Kafka.Tests.Infrastructure;
using Inbox.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;

namespace Inbox.Kafka.Tests.Consuming;

public sealed class PartitionRouterTests
{
    private static readonly TopicPartition P0 = new("orders", 0);
    private static readonly TopicPartition P1 = new("orders", 1);

    [Fact]
    public async Task Route_QueueReachesTheLimit_PausesThatPartitionOnly_AndResumesItAtHalf()
    {
        var kafka = new FakeKafkaClient();
        var gate = new SemaphoreSlim(0);
        var sut = CreateSut(kafka, pauseAt: 10, process: async (_, _, ct) => await gate.WaitAsync(ct));

        // The worker takes the first record into a batch that waits on the gate; ten more queue up behind it.
        Route(sut, P0, 0, 11);
        Route(sut, P1, 0, 3);
        Assert.Equal([P0], kafka.Paused);
        Assert.Equal(1, sut.PausedCount);
        Assert.True(sut.ResumeDrained(), "nothing drained yet: P0 stays paused");

        // Each release lets one single-record batch through (batch size 1): at five left it is resumed.
        for (var released = 0; kafka.Paused.Count > 0; released++)
        {
            Assert.True(released <= 11, "P0 was not resumed once half of its queue had drained");
            gate.Release();
            await Task.Delay(20);
            sut.ResumeDrained();
        }

        Assert.Equal(0, sut.PausedCount);
        Assert.Equal(["pause orders [[0]]", "resume orders [[0]]"], kafka.Calls);
        gate.Release(100);
        sut.Take(null).ForEach(w => w.Drop());
    }

    [Fact]
    public async Task Faulted_AWorkerFails_IsReportedWithoutScanningTheWorkers()
    {
        var sut = CreateSut(new FakeKafkaClient(), pauseAt: 100, process: (_, _, _) => throw new InvalidOperationException("a bug"));

        Route(sut, P1, 0, 1);

        await Eventually.Until(() => Task.FromResult(sut.Faulted is not null), TimeSpan.FromSeconds(10), () => Task.FromResult("no fault"), "the worker's fault");
        Assert.Equal(P1, sut.Faulted!.Partition);
        Assert.IsType<InvalidOperationException>(sut.Faulted.Completion.Exception!.GetBaseException());
    }

    [Fact]
    public void Take_PausedPartition_ForgetsItsPause()
    {
        var kafka = new FakeKafkaClient();
        var sut = CreateSut(kafka, pauseAt: 2, process: (_, _, ct) => Task.Delay(Timeout.Infinite, ct));
        Route(sut, P0, 0, 5);
        Assert.Equal(1, sut.PausedCount);

        var taken = sut.Take([P0]);

        Assert.Single(taken);
        Assert.Equal(0, sut.PausedCount);
        Assert.False(sut.ResumeDrained());
        taken.ForEach(w => w.Drop());
    }

    /// <summary>A pause or resume librdkafka refuses is logged as what it is, not as a failed commit, and routing goes on.</summary>
    [Fact]
    public void Route_PauseAndResumeRefused_LoggedAsSuch_TheRecordsStillReachTheirWorker()
    {
        var kafka = new FakeKafkaClient { FailPauseWith = ErrorCode.Local_State, FailResumeWith = ErrorCode.Local_State };
        var logs = new FakeLogger();
        var sut = new PartitionRouter(
            kafka, p => new PartitionWorker(p, batchSize: 1, (_, _, ct) => Task.Delay(Timeout.Infinite, ct), kafka.StoreOffset, CancellationToken.None), 2, logs, "test");

        Route(sut, P0, 0, 5);
        sut.ResumeAssigned([P0]);

        const int pauseFailed = 125, resumeFailed = 126, commitFailed = 106;
        var events = logs.Collector.GetSnapshot().Select(r => r.Id.Id).ToList();
        Assert.Contains(pauseFailed, events);
        Assert.Contains(resumeFailed, events);
        Assert.DoesNotContain(commitFailed, events);
        Assert.Equal(1, sut.Count);
        sut.Take(null).ForEach(w => w.Drop());
    }

    private static void Route(PartitionRouter router, TopicPartition partition, long from, int count)
    {
        for (var offset = from; offset < from + count; offset++)
        {
            router.Route(new ConsumeResult<byte[]?, byte[]?>
            {
                TopicPartitionOffset = new TopicPartitionOffset(partition, offset),
                Message = new Message<byte[]?, byte[]?> { Value = [] },
            });
        }
    }

    private static PartitionRouter CreateSut(
        FakeKafkaClient kafka,
        int pauseAt,
        Func<TopicPartition, IReadOnlyList<ConsumeResult<byte[]?, byte[]?>>, CancellationToken, Task> process)
        => new(kafka, p => new PartitionWorker(p, batchSize: 1, process, kafka.StoreOffset, CancellationToken.None), pauseAt, NullLogger.Instance, "test");
}
