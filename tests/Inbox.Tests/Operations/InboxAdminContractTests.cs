using System.Text;
using Inbox.Operations;
using Inbox.Tests.Contract;
using Inbox.Tests.Outbox;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Inbox.Tests.Operations;

/// <summary>
/// IInboxAdmin on each store: the status counts what the tables hold, a failed outbox message retried after its cause
/// is fixed is sent once under its message ID, a deleted one never is, and a forgotten message runs its handler again
/// exactly once. Each test names its own consumers and destinations: the class's tests share one database.
/// </summary>
public abstract class InboxAdminContractTests<TStore>(TStore store) : IClassFixture<TStore>
    where TStore : StoreFixture
{
    private readonly FakeTransport _transport = new();
    private readonly HashSet<string> _refused = new(StringComparer.Ordinal);

    [Fact]
    public async Task Status_CountsRecordsPerConsumer_AndMessagesPerDestination()
    {
        await using var sut = CreateSut();
        var (a, b) = (Name("consumer"), Name("consumer"));
        var (pending, refused) = (Name("destination"), Name("destination"));
        _refused.Add(refused);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(InboxOutcome.Processed, await sut.ProcessAsync(a, $"m-{i}"));
        }

        await sut.ProcessAsync(b, "m-0");
        await WriteAsync(sut, refused, "x");
        await DispatchUntilFailedAsync(sut);
        await WriteAsync(sut, pending, "1");
        await WriteAsync(sut, pending, "2");

        var status = await AdminAsync(sut, admin => admin.GetStatusAsync());

        Assert.Equal(store.Generations ? InboxRetention.Generations : InboxRetention.Delete, status.Retention);
        Assert.Equal(store.Generations, status.Generation is not null);
        Assert.Equal((3L, true), status.Inbox.Where(c => c.Consumer == a).Select(c => (c.Records, c.Oldest is not null)).Single());
        Assert.Equal(1, status.Inbox.Single(c => c.Consumer == b).Records);
        Assert.EndsWith("inbox_messages", status.Inbox[0].Table, StringComparison.Ordinal);
        var waiting = status.Outbox.Single(d => d.Destination == pending);
        Assert.Equal(("fake", 2L, 0L, (string?)null), (waiting.Transport, waiting.Pending, waiting.Failed, waiting.LastError));
        Assert.NotNull(waiting.OldestPending);
        var failed = status.Outbox.Single(d => d.Destination == refused);
        Assert.Equal((0L, 1L, (DateTimeOffset?)null), (failed.Pending, failed.Failed, failed.OldestPending));
        Assert.Contains("UnknownTopic", failed.LastError, StringComparison.Ordinal);
        Assert.Null(status.IdempotencyKeys);
    }

    [Fact]
    public async Task RetryFailed_AfterTheCauseIsFixed_IsSentOnce_UnderItsMessageId()
    {
        await using var sut = CreateSut();
        var topic = Name("destination");
        _refused.Add(topic);
        var messageId = await WriteAsync(sut, topic, "refused until the topic exists");
        await DispatchUntilFailedAsync(sut);
        Assert.DoesNotContain(_transport.Sent, s => s.MessageId == messageId);
        var failed = Assert.Single(await AdminAsync(sut, admin => admin.GetFailedOutboxMessagesAsync(topic)));

        // The operator creates the topic, then sends the message again.
        _refused.Remove(topic);
        using var changes = sut.Collect("inbox.admin.changes");
        Assert.Equal(1, await AdminAsync(sut, admin => admin.RetryFailedOutboxMessagesAsync(OutboxSelection.Message(failed.Id), "topic created")));
        Assert.Equal(0, await AdminAsync(sut, admin => admin.RetryFailedOutboxMessagesAsync(OutboxSelection.Message(failed.Id), "a second time")));
        await DrainAsync(sut);
        await DrainAsync(sut);

        Assert.Single(_transport.Sent, s => s.MessageId == messageId);
        Assert.DoesNotContain(await sut.OutboxRowsAsync(), r => r.MessageId == messageId);
        Assert.Equal([1L, 0L], changes.GetMeasurementSnapshot().Select(m => m.Value));
        Assert.Equal("retry", changes.GetMeasurementSnapshot()[0].Tags["inbox.admin.action"]);
        var logged = sut.Services.GetRequiredService<FakeLogCollector>().GetSnapshot().First(l => l.Id.Id == 40);
        Assert.Equal(LogLevel.Information, logged.Level);
        Assert.Contains($"1 failed outbox messages in outbox_messages (message {failed.Id}) made pending again. Reason: topic created", logged.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RetryFailed_ByDestination_LeavesTheOthers_ThenAll_TakesThem()
    {
        await using var sut = CreateSut(maxAttempts: 1);
        var (x, y) = (Name("destination"), Name("destination"));
        _refused.UnionWith([x, y]);
        await WriteAsync(sut, x, "x1");
        await WriteAsync(sut, x, "x2");
        var onY = await WriteAsync(sut, y, "y1");
        await DispatchUntilFailedAsync(sut);
        _refused.Clear();

        Assert.Equal(2, await AdminAsync(sut, admin => admin.RetryFailedOutboxMessagesAsync(OutboxSelection.Destination(x), "topic created")));
        Assert.Single(await AdminAsync(sut, admin => admin.GetFailedOutboxMessagesAsync(y)));
        Assert.True(await AdminAsync(sut, admin => admin.RetryFailedOutboxMessagesAsync(OutboxSelection.All, "every topic created")) >= 1);
        await DrainAsync(sut);

        Assert.Equal(2, _transport.Sent.Count(s => s.Destination == x));
        Assert.Single(_transport.Sent, s => s.MessageId == onY);
    }

    [Fact]
    public async Task DeleteFailed_OneOrByDestination_NeverSent_PendingOnesStay_AllIsRefused()
    {
        await using var sut = CreateSut(maxAttempts: 1);
        var (x, y) = (Name("destination"), Name("destination"));
        _refused.UnionWith([x, y]);
        await WriteAsync(sut, x, "x1");
        await WriteAsync(sut, y, "y1");
        await WriteAsync(sut, y, "y2");
        await DispatchUntilFailedAsync(sut);
        var onX = Assert.Single(await AdminAsync(sut, admin => admin.GetFailedOutboxMessagesAsync(x)));

        var error = await Assert.ThrowsAsync<ArgumentException>(() => AdminAsync(sut, admin => admin.DeleteFailedOutboxMessagesAsync(OutboxSelection.All, "clean up")));
        Assert.Equal("selection", error.ParamName);
        Assert.Equal(1, await AdminAsync(sut, admin => admin.DeleteFailedOutboxMessagesAsync(OutboxSelection.Message(onX.Id), "order cancelled")));

        // A message to y written after the others failed is pending, not failed: deleting y's failed ones leaves it.
        _refused.Clear();
        var later = await WriteAsync(sut, y, "y3");
        Assert.Equal(2, await AdminAsync(sut, admin => admin.DeleteFailedOutboxMessagesAsync(OutboxSelection.Destination(y), "topic retired")));
        await DrainAsync(sut);

        Assert.Equal([later], _transport.Sent.Where(s => s.Destination == x || s.Destination == y).Select(s => s.MessageId));
        Assert.Empty(await AdminAsync(sut, admin => admin.GetFailedOutboxMessagesAsync(y)));
    }

    [Fact]
    public async Task ListFailed_PagesById_AndFiltersByDestination()
    {
        await using var sut = CreateSut(maxAttempts: 1);
        var (z, other) = (Name("destination"), Name("destination"));
        _refused.UnionWith([z, other]);
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add(await WriteAsync(sut, z, $"z{i}"));
        }

        await WriteAsync(sut, other, "o");
        await DispatchUntilFailedAsync(sut);

        var first = await AdminAsync(sut, admin => admin.GetFailedOutboxMessagesAsync(z, limit: 2));
        var second = await AdminAsync(sut, admin => admin.GetFailedOutboxMessagesAsync(z, afterId: first[^1].Id, limit: 2));

        Assert.Equal(ids, first.Concat(second).Select(m => m.MessageId));
        var message = first[0];
        Assert.Equal(("fake", z, "key", 1, 2), (message.Transport, message.Destination, message.PartitionKey, message.Attempts, message.BodyLength));
        Assert.Contains("UnknownTopic", message.LastError, StringComparison.Ordinal);
        Assert.True(message.FailedAt >= message.CreatedAt);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => AdminAsync(sut, admin => admin.GetFailedOutboxMessagesAsync(limit: 0)));
    }

    [Fact]
    public async Task Forget_ThenRedelivery_RunsTheHandlerAgain_ExactlyOnce()
    {
        await using var sut = CreateSut();
        var consumer = Name("consumer");
        Assert.Equal(InboxOutcome.Processed, await sut.ProcessAsync(consumer, "m-1"));
        Assert.Equal(InboxOutcome.Duplicate, await sut.ProcessAsync(consumer, "m-1"));
        await sut.ProcessAsync(consumer, "m-2");
        using var changes = sut.Collect("inbox.admin.changes");

        Assert.True(await AdminAsync(sut, admin => admin.ForgetAsync(consumer, "m-1", "invoice was corrupted by bug 123")));
        Assert.False(await AdminAsync(sut, admin => admin.ForgetAsync(consumer, "m-1", "again")));
        Assert.False(await AdminAsync(sut, admin => admin.ForgetAsync(consumer, "m-%", "a pattern is not a wildcard")));

        Assert.Equal(InboxOutcome.Processed, await sut.ProcessAsync(consumer, "m-1"));
        Assert.Equal(InboxOutcome.Duplicate, await sut.ProcessAsync(consumer, "m-1"));
        Assert.Equal(InboxOutcome.Duplicate, await sut.ProcessAsync(consumer, "m-2"));
        Assert.Equal(new Dictionary<string, int> { ["m-1"] = 2, ["m-2"] = 1 }, await sut.BusinessRowsAsync(consumer));
        Assert.Equal([1L, 0L, 0L], changes.GetMeasurementSnapshot().Select(m => m.Value));

        // Each one logged at Warning with its reason, the one that found nothing too.
        var logged = sut.Services.GetRequiredService<FakeLogCollector>().GetSnapshot().Where(l => l.Id.Id == 42).ToList();
        Assert.Equal(3, logged.Count);
        Assert.All(logged, l => Assert.Equal(LogLevel.Warning, l.Level));
        Assert.Contains($"message m-1 of consumer {consumer} forgotten", logged[0].Message, StringComparison.Ordinal);
        Assert.Contains("(1 records deleted)", logged[0].Message, StringComparison.Ordinal);
        Assert.EndsWith("Reason: invoice was corrupted by bug 123", logged[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Forget_WithControlCharactersOrNoReason_IsRefused_AndChangesNothing()
    {
        await using var sut = CreateSut();
        var consumer = Name("consumer");
        await sut.ProcessAsync(consumer, "m-1");

        Assert.Equal("consumer", (await Assert.ThrowsAsync<ArgumentException>(() => AdminAsync(sut, admin => admin.ForgetAsync(consumer + "\u0007", "m-1", "typo")))).ParamName);
        Assert.Equal("messageId", (await Assert.ThrowsAsync<ArgumentException>(() => AdminAsync(sut, admin => admin.ForgetAsync(consumer, "m-1\n", "typo")))).ParamName);
        Assert.Equal("reason", (await Assert.ThrowsAsync<ArgumentException>(() => AdminAsync(sut, admin => admin.ForgetAsync(consumer, "m-1", " ")))).ParamName);
        await Assert.ThrowsAsync<InvalidOperationException>(() => AdminAsync(sut, admin => admin.ForgetIdempotencyKeyAsync("POST /payments", "k", "no keys here")));

        Assert.Equal(["m-1"], await sut.InboxIdsAsync(consumer));
    }

    private static string Name(string what) => $"{what}-{Guid.NewGuid():N}"[..(what.Length + 9)];

    private static async Task<T> AdminAsync<T>(InboxHarness sut, Func<IInboxAdmin<TestDbContext>, Task<T>> act)
    {
        await using var scope = sut.Services.CreateAsyncScope();
        return await act(scope.ServiceProvider.GetRequiredService<IInboxAdmin<TestDbContext>>());
    }

    private static async Task<string> WriteAsync(InboxHarness sut, string destination, string body)
    {
        await using var scope = sut.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TestDbContext>();
        var id = db.Outbox().Add(new OutboxMessage("fake", destination, Encoding.UTF8.GetBytes(body)) { PartitionKey = "key" });
        await db.SaveChangesAsync();
        return id;
    }

    private static async Task DrainAsync(InboxHarness sut)
    {
        while (await sut.DispatchAsync())
        {
        }
    }

    // Dispatches until every message to a refused destination is kept as failed (MaxAttempts dispatches).
    private async Task DispatchUntilFailedAsync(InboxHarness sut)
    {
        for (var i = 0; i < 2; i++)
        {
            await DrainAsync(sut);
        }

        var rows = await sut.OutboxRowsAsync();
        Assert.All(rows.Where(r => _refused.Contains(r.Destination)), r => Assert.NotNull(r.FailedAt));
    }

    private InboxHarness CreateSut(int maxAttempts = 2)
    {
        _transport.Answer = m => _refused.Contains(m.Destination) ? OutboxDelivery.Refused($"UnknownTopicOrPart: {m.Destination}") : OutboxDelivery.Sent;
        return new InboxHarness(store, more: s => s.AddFakeLogging().AddOutbox<TestDbContext>(o =>
        {
            o.AddTransport("fake", _ => _transport);
            o.MaxAttempts = maxAttempts;
        }));
    }
}

public sealed class SqliteAdminStoreFixture : SqliteStoreFixture;

public sealed class PostgresAdminStoreFixture : PostgresStoreFixture;

public sealed class PostgresGenerationsAdminStoreFixture : PostgresGenerationsStoreFixture;

public sealed class SqliteInboxAdminTests(SqliteAdminStoreFixture store) : InboxAdminContractTests<SqliteAdminStoreFixture>(store);

public sealed class PostgresInboxAdminTests(PostgresAdminStoreFixture store) : InboxAdminContractTests<PostgresAdminStoreFixture>(store);

public sealed class PostgresGenerationsInboxAdminTests(PostgresGenerationsAdminStoreFixture store) : InboxAdminContractTests<PostgresGenerationsAdminStoreFixture>(store);
