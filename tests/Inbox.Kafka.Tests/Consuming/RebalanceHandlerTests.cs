using Confluent.Kafka;
using Inbox.Kafka.Consuming;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Inbox.Kafka.Tests.Consuming;

public sealed class RebalanceHandlerTests
{
    private static readonly TopicPartition P0 = new("orders", 0);
    private static readonly TopicPartition P1 = new("orders", 1);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task OnRevoked_BatchFinishesInTime_StoresItsOffsetThenCommits()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var (sut, kafka, router, _) = CreateSut(process: (_, _, _) =>
        {
            started.TrySetResult();
            return Task.Delay(50);
        });
        sut.OnAssigned([P0]);
        Route(router, P0, 41);

        // Revoked while the batch is in flight (a record still queued, not started, is left for the next owner).
        await started.Task;
        await Task.Run(() => sut.OnRevoked([P0]));

        Assert.Equal([new TopicPartitionOffset(P0, 42)], kafka.Stored);
        Assert.Equal(1, kafka.Commits);
        Assert.Equal(0, router.Count);
    }

    [Fact]
    public async Task OnRevoked_BatchHangs_WholeCallbackEndsAfterOneTimeoutNotTwo_AndNothingIsStored()
    {
        // A batch stuck in a call that does not observe cancellation: dropping it does not make it end either.
        var stuck = new TaskCompletionSource();
        var running = new CountdownEvent(2);
        var (sut, kafka, router, time) = CreateSut(process: (_, _, _) =>
        {
            running.Signal();
            return stuck.Task;
        });
        sut.OnAssigned([P0, P1]);
        Route(router, P0, 1);
        Route(router, P1, 1);
        Assert.True(running.Wait(TimeSpan.FromSeconds(10)), "both batches should be in flight");
        var started = time.GetUtcNow();

        var revoking = Task.Run(() => sut.OnRevoked([P0, P1]));
        while (!revoking.IsCompleted && time.GetUtcNow() - started < 3 * Timeout)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await Task.WhenAny(revoking, Task.Delay(5));
        }

        await revoking;
        Assert.InRange(time.GetUtcNow() - started, Timeout, Timeout + TimeSpan.FromSeconds(2));
        stuck.SetResult();
        await Task.Delay(50);
        Assert.Empty(kafka.Stored);
        Assert.Equal(1, kafka.Commits);
    }

    [Fact]
    public void OnAssigned_DatabaseOffsets_SeeksThereAndLeavesTheRestToKafka()
    {
        var (sut, _, router, _) = CreateSut(process: (_, _, _) => Task.CompletedTask, stored: new Dictionary<TopicPartition, long> { [P0] = 120 });

        var positions = sut.OnAssigned([P0, P1]);

        Assert.Equal([new TopicPartitionOffset(P0, 120), new TopicPartitionOffset(P1, Offset.Unset)], positions);
        Assert.Equal(2, router.Count);
        Assert.Equal([P0, P1], sut.TakeAssigned());
        Assert.Null(sut.TakeAssigned());
    }

    [Fact]
    public async Task OnLost_DropsTheBatchInFlight_StoresAndCommitsNothing()
    {
        var inFlight = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var (sut, kafka, router, _) = CreateSut(process: (_, _, ct) =>
        {
            inFlight.TrySetResult();
            return Task.Delay(System.Threading.Timeout.Infinite, ct);
        });
        sut.OnAssigned([P0]);
        Route(router, P0, 7);
        await inFlight.Task;

        await Task.Run(() => sut.OnLost([P0]));

        Assert.Empty(kafka.Stored);
        Assert.Equal(0, kafka.Commits);
        Assert.Equal(0, router.Count);
    }

    private static void Route(PartitionRouter router, TopicPartition partition, long offset)
    {
        router.Route(new ConsumeResult<byte[]?, byte[]?>
        {
            TopicPartitionOffset = new TopicPartitionOffset(partition, offset),
            Message = new Message<byte[]?, byte[]?> { Value = [] },
        });
    }

    private static (RebalanceHandler Sut, FakeKafkaClient Kafka, PartitionRouter Router, FakeTimeProvider Time) CreateSut(
        Func<TopicPartition, IReadOnlyList<ConsumeResult<byte[]?, byte[]?>>, CancellationToken, Task> process,
        Dictionary<TopicPartition, long>? stored = null)
    {
        var kafka = new FakeKafkaClient();
        var time = new FakeTimeProvider();
        var committer = new OffsetCommitter(kafka, manualCommit: false, TimeSpan.FromSeconds(5), time, NullLogger.Instance, "test");
        var router = new PartitionRouter(kafka, p => new PartitionWorker(p, 100, process, committer.Store, CancellationToken.None), 1_000, NullLogger.Instance, "test");
        var sut = new RebalanceHandler(router, committer, _ => stored ?? [], Timeout, time, NullLogger.Instance, "test");
        return (sut, kafka, router, time);
    }
}
