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
}
