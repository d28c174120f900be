using System.Text;
using Inbox.Tests.Contract;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Inbox.Tests.Outbox;

/// <summary>What the outbox promises on every store: the message leaves with the commit, once, under its ID, in order.</summary>
public abstract class OutboxContractTests<TStore>(TStore store) : IClassFixture<TStore>
    where TStore : StoreFixture
{
    protected TStore Store { get; } = store;

    protected FakeTransport Transport { get; } = new();

    protected static string NewConsumer() => "outbox-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Write_InAUnitThatRollsBack_LeavesNoRowAndSendsNothing()
    {
        await using var sut = CreateSut();
        var before = (await sut.OutboxRowsAsync()).Count;

        await Assert.ThrowsAsync<InvalidOperationException>(() => sut.ProcessAsync(NewConsumer(), "m-1", (db, _) =>
        {
            db.Outbox().Add(Message("orders", "k", "lost"));
            throw new InvalidOperationException("the handler fails after writing to the outbox");
        }));

        Assert.Equal(before, (await sut.OutboxRowsAsync()).Count);
        await DrainAsync(sut);
        Assert.DoesNotContain(Transport.Sent, s => s.Body == "lost");
    }

    [Fact]
    public async Task Write_InACommittedUnit_IsDispatchedOnceAndDeleted()
    {
        await using var sut = CreateSut();
        var consumer = NewConsumer();
        string? messageId = null;

        await sut.ProcessAsync(consumer, "m-1", (db, _) =>
        {
            messageId = db.Outbox().Add(Message("invoices", "order-1", "invoice 1"));
            return Task.CompletedTask;
        });
        await DrainAsync(sut);
        await DrainAsync(sut);

        var sent = Assert.Single(Transport.Sent, s => s.MessageId == messageId);
        Assert.Equal(("invoices", "order-1", "invoice 1"), (sent.Destination, sent.Key, sent.Body));
        Assert.DoesNotContain(await sut.OutboxRowsAsync(), r => r.MessageId == messageId);
        Assert.True(Guid.TryParse(messageId, out var guid) && guid.Version == 7, $"{messageId} is not a UUID v7");
    }

    [Fact]
    public async Task Dispatch_BrokerUnavailableThenBack_SendsAgainUnderTheSameMessageId()
    {
        await using var sut = CreateSut();
        var down = true;
        Transport.Answer = _ => down ? OutboxDelivery.Unavailable("brokers down") : OutboxDelivery.Sent;
        var messageId = await WriteAsync(sut, Message("invoices", "k", "after the outage"));

        await Assert.ThrowsAnyAsync<Exception>(() => sut.DispatchAsync());
        var row = Assert.Single(await sut.OutboxRowsAsync(), r => r.MessageId == messageId);
        Assert.Equal(0, row.Attempts);
        down = false;
        await DrainAsync(sut);

        Assert.Single(Transport.Sent, s => s.MessageId == messageId);
        Assert.DoesNotContain(await sut.OutboxRowsAsync(), r => r.MessageId == messageId);
    }

    [Fact]
    public async Task Dispatch_ManyMessagesOfOneTransaction_SentInTheOrderWritten()
    {
        await using var sut = CreateSut();
        var keys = new[] { "a", "b", null };
        await sut.ProcessAsync(NewConsumer(), "m-1", (db, _) =>
        {
            for (var i = 0; i < 60; i++)
            {
                db.Outbox().Add(Message("orders", keys[i % 3], $"{i:D3}"));
            }

            return Task.CompletedTask;
        });

        await DrainAsync(sut);

        foreach (var key in keys)
        {
            var bodies = Transport.Sent.Where(s => s.Key == key).OrderBy(s => s.Sequence).Select(s => s.Body).ToList();
            Assert.Equal(20, bodies.Count);
            Assert.Equal(bodies.Order(StringComparer.Ordinal), bodies);
        }
    }

    [Fact]
    public async Task Dispatch_AMessageTheBrokerRefuses_KeptAsFailedAfterMaxAttempts_TheOthersFlow()
    {
        await using var sut = CreateSut(o => o.MaxAttempts = 3);
        Transport.Answer = m => Encoding.UTF8.GetString(m.Body.Span) == "poison" ? OutboxDelivery.Refused("MsgSizeTooLarge: too large") : OutboxDelivery.Sent;
        var poison = await WriteAsync(sut, Message("orders", "k1", "poison"));
        await WriteAsync(sut, Message("orders", "k2", "fine-1"));

        for (var i = 0; i < 3; i++)
        {
            await sut.DispatchAsync();
            await WriteAsync(sut, Message("orders", "k2", $"fine-{i + 2}"));
        }

        await DrainAsync(sut);
        var kept = Assert.Single(await sut.OutboxRowsAsync(), r => r.MessageId == poison);
        Assert.Equal(3, kept.Attempts);
        Assert.NotNull(kept.FailedAt);
        Assert.Contains("MsgSizeTooLarge", kept.LastError, StringComparison.Ordinal);
        Assert.Equal(["fine-1", "fine-2", "fine-3", "fine-4"], Transport.Sent.Where(s => s.Key == "k2").OrderBy(s => s.Sequence).Select(s => s.Body));

        // Dispatches after that leave it alone.
        await DrainAsync(sut);
        Assert.Equal(3, (await sut.OutboxRowsAsync()).Single(r => r.MessageId == poison).Attempts);
    }

    [Fact]
    public async Task Write_MessageNoTransportCanCarry_ThrowsBeforeAnythingIsSaved()
    {
        await using var sut = CreateSut();
        await using var scope = sut.Services.CreateAsyncScope();
        var outbox = scope.ServiceProvider.GetRequiredService<TestDbContext>().Outbox();

        Assert.Equal("destination", Assert.Throws<InvalidOutboxMessageException>(() => outbox.Add(new OutboxMessage("fake", "", "x"u8.ToArray()))).ParamName);
        Assert.Equal("messageId", Assert.Throws<InvalidOutboxMessageException>(() => outbox.Add(Message("orders", null, "x", messageId: new string('x', 257)))).ParamName);
        Assert.Equal("messageId", Assert.Throws<InvalidOutboxMessageException>(() => outbox.Add(Message("orders", null, "x", messageId: "a\nb"))).ParamName);
        Assert.Equal("header name", Assert.Throws<InvalidOutboxMessageException>(() => outbox.Add(new OutboxMessage("fake", "orders", "x"u8.ToArray()) { Headers = new Dictionary<string, string> { ["bad\u0001"] = "v" } })).ParamName);
        Assert.Empty(scope.ServiceProvider.GetRequiredService<TestDbContext>().ChangeTracker.Entries());
    }

    [Fact]
    public async Task Write_OutsideAUnit_CommitsWithSaveChangesAndNotWithout()
    {
        await using var sut = CreateSut();
        string saved;
        await using (var scope = sut.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<TestDbContext>();
            saved = db.Outbox().Add(Message("orders", "k", "saved"));
            db.Rows.Add(new BusinessRow { Consumer = "plain", MessageId = saved });
            await db.SaveChangesAsync();
        }

        await using (var scope = sut.Services.CreateAsyncScope())
        {
            scope.ServiceProvider.GetRequiredService<TestDbContext>().Outbox().Add(Message("orders", "k", "never saved"));
        }

        await DrainAsync(sut);
        Assert.Single(Transport.Sent, s => s.MessageId == saved);
        Assert.DoesNotContain(Transport.Sent, s => s.Body == "never saved");
    }

    [Fact]
    public async Task Write_SaveChangesFailsAndTheCallerSavesAgain_TheRowIsSavedWithTheSecondSave()
    {
        await using var sut = CreateSut();
        var taken = await SaveRowAsync(sut);
        string messageId;
        await using (var scope = sut.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<TestDbContext>();
            messageId = db.Outbox().Add(Message("orders", "k", "kept"));
            var clash = db.Rows.Add(new BusinessRow { Id = taken, Consumer = "clash", MessageId = "clash" }).Entity;

            // The save fails on the business row's primary key, and its transaction rolls back.
            await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());

            // As with EF Core's own entities, the outbox row is still pending: saved by the caller's next SaveChanges.
            db.Entry(clash).State = EntityState.Detached;
            await db.SaveChangesAsync();
        }

        await DrainAsync(sut);
        Assert.Single(Transport.Sent, s => s.MessageId == messageId);
    }

    [Fact]
    public async Task Write_SavedInTheCallersTransactionThenAnotherSaveFails_TheRowIsSavedOnce()
    {
        await using var sut = CreateSut();
        var taken = await SaveRowAsync(sut);
        var messageId = "";
        await using (var scope = sut.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<TestDbContext>();
            await db.Database.CreateExecutionStrategy().ExecuteAsync(async () =>
            {
                await using var transaction = await db.Database.BeginTransactionAsync();
                messageId = db.Outbox().Add(Message("orders", "k", "once"));
                await db.SaveChangesAsync();

                // A later save in the same transaction fails (EF Core rolls it back to its savepoint): the row saved
                // before must not come back as pending, or the next save would write it a second time.
                var clash = db.Rows.Add(new BusinessRow { Id = taken, Consumer = "clash", MessageId = "clash" }).Entity;
                await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());
                db.Entry(clash).State = EntityState.Detached;
                await db.SaveChangesAsync();
                await transaction.CommitAsync();
            });
        }

        await DrainAsync(sut);
        Assert.Single(Transport.Sent, s => s.MessageId == messageId);
    }

    [Fact]
    public async Task Dispatcher_Running_IsWokenByTheCommit_NotTheNextPoll()
    {
        await using var sut = CreateSut(o => o.PollInterval = TimeSpan.FromMinutes(10));
        var dispatcher = sut.Services.GetRequiredService<Inbox.Outbox.Dispatching.OutboxDispatcher<TestDbContext>>();
        await dispatcher.StartAsync(CancellationToken.None);
        try
        {
            // The dispatcher's first look finds nothing, then it waits on its poll interval of ten minutes.
            await Task.Delay(200);
            string? messageId = null;
            await sut.ProcessAsync(NewConsumer(), "m-1", (db, _) =>
            {
                messageId = db.Outbox().Add(Message("orders", "k", "wake up"));
                return Task.CompletedTask;
            });

            var watch = System.Diagnostics.Stopwatch.StartNew();
            while (!Transport.Sent.Any(s => s.MessageId == messageId))
            {
                Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), "the commit did not wake the dispatcher");
                await Task.Delay(10);
            }
        }
        finally
        {
            await dispatcher.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>
    /// Rows another instance committed wake nothing here: the dispatcher finds them by its poll, which waits on the
    /// injected clock (here a fake one that the test moves on), not on the wall clock.
    /// </summary>
    [Fact]
    public async Task Dispatcher_Running_PollsOnTheInjectedClock()
    {
        await using var sut = CreateSut(o => o.PollInterval = TimeSpan.FromMinutes(10));
        await using var otherInstance = CreateSut();
        var dispatcher = sut.Services.GetRequiredService<Inbox.Outbox.Dispatching.OutboxDispatcher<TestDbContext>>();
        var timers = sut.Time.Timers;
        await dispatcher.StartAsync(CancellationToken.None);
        try
        {
            // Its first look found nothing: it waits for a signal or its poll, on a timer of the fake clock.
            await WaitUntilAsync(() => sut.Time.Timers > timers, "the dispatcher to wait for its poll");
            var messageId = await WriteAsync(otherInstance, Message("orders", "k", "polled"));

            var watch = System.Diagnostics.Stopwatch.StartNew();
            while (!Transport.Sent.Any(s => s.MessageId == messageId))
            {
                Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), "ten minutes of the injected clock passed, and the dispatcher did not poll");
                sut.Time.Advance(TimeSpan.FromSeconds(5));
                await Task.Delay(5);
            }
        }
        finally
        {
            await dispatcher.StopAsync(CancellationToken.None);
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"timed out waiting for {what}");
            await Task.Delay(5);
        }
    }

    protected static OutboxMessage Message(string destination, string? key, string body, string? messageId = null)
        => new("fake", destination, Encoding.UTF8.GetBytes(body)) { PartitionKey = key, MessageId = messageId };

    protected static async Task<string> WriteAsync(InboxHarness sut, OutboxMessage message)
    {
        await using var scope = sut.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TestDbContext>();
        var id = db.Outbox().Add(message);
        await db.SaveChangesAsync();
        return id;
    }

    /// <summary>Saves a business row; returns its primary key, for a save that must fail on it.</summary>
    private static async Task<long> SaveRowAsync(InboxHarness sut)
    {
        await using var scope = sut.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TestDbContext>();
        var row = db.Rows.Add(new BusinessRow { Consumer = "taken", MessageId = "taken" }).Entity;
        await db.SaveChangesAsync();
        return row.Id;
    }

    /// <summary>Dispatches until a dispatch finds less than a full batch.</summary>
    protected static async Task DrainAsync(InboxHarness sut)
    {
        while (await sut.DispatchAsync())
        {
        }
    }

    protected InboxHarness CreateSut(Action<OutboxOptions>? configure = null) => new(Store, more: s => s.AddOutbox<TestDbContext>(o =>
    {
        o.AddTransport("fake", _ => Transport);
        configure?.Invoke(o);
    }));
}

public sealed class SqliteOutboxTests(SqliteOutboxStoreFixture store) : OutboxContractTests<SqliteOutboxStoreFixture>(store);

public sealed class PostgresOutboxTests(PostgresOutboxStoreFixture store) : OutboxContractTests<PostgresOutboxStoreFixture>(store);

/// <summary>
/// The outbox contract under Npgsql's retrying execution strategy (<c>EnableRetryOnFailure</c>): the dispatcher and a
/// plain SaveChanges outside a unit open their transactions inside the strategy.
/// </summary>
public sealed class PostgresRetryingOutboxTests(PostgresRetryingOutboxStoreFixture store) : OutboxContractTests<PostgresRetryingOutboxStoreFixture>(store);
