using System.Net.Sockets;
using Inbox.Tests.Contract;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Npgsql;

namespace Inbox.Tests.Processing;

/// <summary>
/// A store failure is never the message's fault: the unit of work is held and run again until the database answers,
/// within InboxOptions.StoreOutageLimit. The failure is simulated by a handler that throws what Npgsql throws for a
/// refused connection; the classification sees the same exception either way.
/// </summary>
public sealed class StoreRetryTests(SqliteStoreFixture store) : IClassFixture<SqliteStoreFixture>
{
    [Fact]
    public async Task ProcessAsync_StoreFailsThreeTimes_HeldAndRunAgainUntilItAnswers_OneEffect()
    {
        await using var sut = CreateSut();
        using var retries = sut.Collect("inbox.store.retries");
        var consumer = NewConsumer();
        var runs = 0;

        var outcome = await sut.AdvancingClockAsync(sut.ProcessAsync(consumer, "m-1", (db, ct) =>
        {
            db.Rows.Add(new BusinessRow { Consumer = consumer, MessageId = "m-1", Note = $"run {++runs}" });
            return runs <= 3 ? throw Refused() : Task.CompletedTask;
        }));

        Assert.Equal(InboxOutcome.Processed, outcome);
        Assert.Equal(4, runs);
        Assert.Equal(3, retries.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal(new Dictionary<string, int> { ["m-1"] = 1 }, await sut.BusinessRowsAsync(consumer));
        var logs = sut.Services.GetRequiredService<FakeLogCollector>().GetSnapshot();
        Assert.Single(logs, r => r.Level == LogLevel.Warning && r.Message.Contains("the database failed; the message is held", StringComparison.Ordinal));
        Assert.Single(logs, r => r.Message.Contains("the database answers again", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ProcessAsync_StoreFailsLongerThanTheLimit_ThrowsTheStoreFailureAfterHoldingThatLong()
    {
        await using var sut = CreateSut(o => o.StoreOutageLimit = TimeSpan.FromMinutes(2));
        var started = sut.Time.GetUtcNow();
        var runs = 0;

        var error = await Assert.ThrowsAsync<NpgsqlException>(() => sut.AdvancingClockAsync(sut.ProcessAsync(NewConsumer(), "m-1", (_, _) =>
        {
            runs++;
            throw Refused();
        })));

        Assert.Equal(InboxFailureKind.Store, InboxFailures.Classify(error));
        Assert.InRange(sut.Time.GetUtcNow() - started, TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(3));
        Assert.True(runs > 10, $"held with back-off capped at 5 s: expected many runs in 2 minutes, saw {runs}");
        Assert.Contains(
            sut.Services.GetRequiredService<FakeLogCollector>().GetSnapshot(),
            r => r.Level == LogLevel.Error && r.Message.Contains("longer than InboxOptions.StoreOutageLimit", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ProcessAsync_HoldingTurnedOff_ThrowsTheFirstStoreFailure()
    {
        await using var sut = CreateSut(o => o.StoreOutageLimit = TimeSpan.Zero);
        var runs = 0;

        await Assert.ThrowsAsync<NpgsqlException>(() => sut.ProcessAsync(NewConsumer(), "m-1", (_, _) =>
        {
            runs++;
            throw Refused();
        }));

        Assert.Equal(1, runs);
    }

    [Fact]
    public async Task ProcessAsync_HandlerFailure_IsNotRetriedByTheStoreRetry()
    {
        await using var sut = CreateSut();
        var runs = 0;

        await Assert.ThrowsAsync<InvalidOperationException>(() => sut.ProcessAsync(NewConsumer(), "m-1", (_, _) =>
        {
            runs++;
            throw new InvalidOperationException("the consumer is broken");
        }));

        Assert.Equal(1, runs);
    }

    [Fact]
    public async Task ProcessBatchAsync_StoreFailsAfterTheHandlerStarted_RetriesTheWholeBatchNeverOneByOne()
    {
        await using var sut = CreateSut();
        var consumer = NewConsumer();
        var calls = new List<int>();
        InboxMessage[] messages = [new("a"), new("b"), new("c"), new("d")];

        var result = await sut.AdvancingClockAsync(sut.ProcessBatchAsync(consumer, messages, (db, fresh, _) =>
        {
            calls.Add(fresh.Count);
            db.Rows.AddRange(fresh.Select(m => new BusinessRow { Consumer = consumer, MessageId = m.MessageId }));
            return calls.Count <= 2 ? throw Refused() : Task.CompletedTask;
        }));

        // Before: the first failure after the handler started fell back to four units of their own.
        Assert.Equal([4, 4, 4], calls);
        Assert.Equal(4, result.Processed);
        Assert.DoesNotContain(sut.Services.GetRequiredService<FakeLogCollector>().GetSnapshot(), r => r.Message.Contains("retrying them one by one", StringComparison.Ordinal));
        Assert.Equal(["a", "b", "c", "d"], (await sut.BusinessRowsAsync(consumer)).Keys.Order());
    }

    [Fact]
    public async Task ProcessBatchAsync_HandlerFailure_StillFallsBackOneByOne()
    {
        await using var sut = CreateSut();
        var consumer = NewConsumer();
        var calls = new List<int>();

        var result = await sut.ProcessBatchAsync(consumer, [new("a"), new("poison"), new("c")], (db, fresh, _) =>
        {
            calls.Add(fresh.Count);
            return fresh.Any(m => m.MessageId == "poison") ? throw new FormatException("poison") : Task.CompletedTask;
        });

        Assert.Equal([3, 1, 1, 1], calls);
        Assert.Equal((2, 1), (result.Processed, result.Failed));
    }

    private static NpgsqlException Refused()
        => new("Failed to connect to 127.0.0.1:5432", new SocketException((int)SocketError.ConnectionRefused));

    private static string NewConsumer() => "store-" + Guid.NewGuid().ToString("N")[..8];

    private InboxHarness CreateSut(Action<InboxOptions>? configure = null) => new(store, configure, more: s => s.AddFakeLogging());
}
