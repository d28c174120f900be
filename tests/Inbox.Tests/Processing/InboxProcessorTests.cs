using Inbox.Tests.Contract;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Inbox.Tests.Processing;

public sealed class InboxProcessorTests(SqliteStoreFixture store) : IClassFixture<SqliteStoreFixture>
{
    [Fact]
    public async Task ProcessAsync_TurnsSavepointsOffOnlyForTheUnit_LeavesTheDbContextAsItWas()
    {
        await using var sut = new InboxHarness(store);
        await using var scope = sut.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TestDbContext>();
        var inbox = scope.ServiceProvider.GetRequiredService<IInbox<TestDbContext>>();
        bool? insideUnit = null;

        await inbox.ProcessAsync("savepoints", "m-1", (context, _) =>
        {
            insideUnit = context.Database.AutoSavepointsEnabled;
            return Task.CompletedTask;
        });

        Assert.False(insideUnit);
        Assert.True(db.Database.AutoSavepointsEnabled);
        Assert.Null(db.Database.CurrentTransaction);
    }

    [Fact]
    public async Task ProcessAsync_NullHandler_ThrowsWithParameterName()
    {
        await using var sut = new InboxHarness(store);
        await using var scope = sut.Services.CreateAsyncScope();
        var inbox = scope.ServiceProvider.GetRequiredService<IInbox<TestDbContext>>();

        var error = await Assert.ThrowsAsync<ArgumentNullException>(() => inbox.ProcessAsync("c", "m", null!));
        var batchError = await Assert.ThrowsAsync<ArgumentNullException>(() => inbox.ProcessBatchAsync<string>("c", null!, m => new InboxMessage(m), (_, _, _) => Task.CompletedTask));

        Assert.Equal("handler", error.ParamName);
        Assert.Equal("messages", batchError.ParamName);
    }

    [Fact]
    public async Task ProcessAsync_Outcomes_AreTaggedOnTheInboxActivity()
    {
        var consumer = "activity-" + Guid.NewGuid().ToString("N")[..8];
        var stopped = new System.Collections.Concurrent.ConcurrentQueue<System.Diagnostics.Activity>();
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => source.Name == "Inbox",
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        await using var sut = new InboxHarness(store);

        await sut.ProcessAsync(consumer, "m-1");
        await sut.ProcessAsync(consumer, "m-1");

        var mine = stopped.Where(a => a.GetTagItem("messaging.consumer.group.name") as string == consumer).ToList();
        Assert.Equal(2, mine.Count);
        Assert.All(mine, a =>
        {
            Assert.Equal("inbox process", a.OperationName);
            Assert.Equal("m-1", a.GetTagItem("messaging.message.id"));
        });
        Assert.Equal(["Processed", "Duplicate"], mine.Select(a => a.GetTagItem("inbox.outcome")));
    }
}
