using System.Diagnostics.Metrics;
using Inbox.Purging;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Inbox.Tests.Contract;

/// <summary>A service provider with the inbox registered against one store, and ways to look at the tables.</summary>
public sealed class InboxHarness : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly StoreFixture _store;

    public InboxHarness(StoreFixture store, Action<InboxOptions>? configure = null, Action<DbContextOptionsBuilder>? db = null, Action<IServiceCollection>? more = null)
    {
        _store = store;
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(Time);
        services.AddDbContext<TestDbContext>(o =>
        {
            store.Configure(o);
            db?.Invoke(o);
        });
        services.AddInbox<TestDbContext>(configure);
        more?.Invoke(services);
        _services = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });
    }

    public CountingTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    public IServiceProvider Services => _services;

    public MetricCollector<T> Collect<T>(string instrument)
        where T : struct
        => new(_services.GetRequiredService<IMeterFactory>(), "Inbox", instrument);

    public MetricCollector<long> Collect(string instrument) => Collect<long>(instrument);

    /// <summary>Processes one message in a scope of its own, as an adapter would per delivery.</summary>
    public async Task<InboxOutcome> ProcessAsync(string consumer, InboxMessage message, Func<TestDbContext, CancellationToken, Task>? handler = null)
    {
        await using var scope = _services.CreateAsyncScope();
        var inbox = scope.ServiceProvider.GetRequiredService<IInbox<TestDbContext>>();
        return await inbox.ProcessAsync(consumer, message, handler ?? WriteRow(consumer, message.MessageId));
    }

    public Task<InboxOutcome> ProcessAsync(string consumer, string messageId, Func<TestDbContext, CancellationToken, Task>? handler = null)
        => ProcessAsync(consumer, new InboxMessage(messageId), handler);

    public async Task<InboxBatchResult> ProcessBatchAsync(string consumer, IReadOnlyList<InboxMessage> messages, Func<TestDbContext, IReadOnlyList<InboxMessage>, CancellationToken, Task>? handler = null)
    {
        await using var scope = _services.CreateAsyncScope();
        var inbox = scope.ServiceProvider.GetRequiredService<IInbox<TestDbContext>>();
        return await inbox.ProcessBatchAsync(
            consumer,
            messages,
            static m => m,
            handler ?? ((db, fresh, _) =>
            {
                db.Rows.AddRange(fresh.Select(m => new BusinessRow { Consumer = consumer, MessageId = m.MessageId }));
                return Task.CompletedTask;
            }));
    }

    public static Func<TestDbContext, CancellationToken, Task> WriteRow(string consumer, string messageId) => (db, _) =>
    {
        db.Rows.Add(new BusinessRow { Consumer = consumer, MessageId = messageId });
        return Task.CompletedTask;
    };

    /// <summary>One outbox dispatch, as the hosted dispatcher would run it; returns whether a full batch went out.</summary>
    public Task<bool> DispatchAsync() => _services.GetRequiredService<Inbox.Outbox.Dispatching.OutboxDispatcher<TestDbContext>>().DispatchAsync(CancellationToken.None);

    /// <summary>The outbox rows, oldest first.</summary>
    internal async Task<List<Inbox.Outbox.Storage.OutboxRecord>> OutboxRowsAsync()
    {
        await using var scope = _services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<TestDbContext>().Set<Inbox.Outbox.Storage.OutboxRecord>().AsNoTracking().OrderBy(r => r.Id).ToListAsync();
    }

    /// <summary>
    /// One purge pass. With generations a pass may wait for settling on the fake clock (a tenth of the purge interval at
    /// most): unless <paramref name="driveClock"/> is false, the clock moves on in small steps while the pass runs.
    /// </summary>
    public async Task<long> PurgeAsync(bool driveClock = true)
    {
        var pass = _services.GetServices<Microsoft.Extensions.Hosting.IHostedService>()
            .OfType<InboxPurger<TestDbContext>>().Single().PurgeAsync(CancellationToken.None);
        while (driveClock && _store.Generations && !pass.IsCompleted)
        {
            await Task.WhenAny(pass, Task.Delay(10));
            if (!pass.IsCompleted)
            {
                Time.Advance(TimeSpan.FromMilliseconds(50));
            }
        }

        return await pass;
    }

    /// <summary>Business rows per message ID for one consumer.</summary>
    public async Task<Dictionary<string, int>> BusinessRowsAsync(string consumer)
    {
        await using var scope = _services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TestDbContext>();
        return await db.Rows.Where(r => r.Consumer == consumer).GroupBy(r => r.MessageId)
            .ToDictionaryAsync(g => g.Key, g => g.Count());
    }

    /// <summary>Message IDs recorded in the inbox for one consumer.</summary>
    public async Task<List<string>> InboxIdsAsync(string consumer)
    {
        await using var scope = _services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TestDbContext>();
        var table = _store.Generations
            ? "(SELECT * FROM inbox_messages_g0 UNION ALL SELECT * FROM inbox_messages_g1 UNION ALL SELECT * FROM inbox_messages_g2)"
            : "inbox_messages";
        var sql = "SELECT DISTINCT message_id AS \"Value\" FROM " + table + " AS r WHERE consumer = {0}";
        return await db.Database.SqlQueryRaw<string>(sql, consumer).ToListAsync();
    }

    /// <summary>
    /// Awaits work that waits on the fake clock (the store retry's back-off), moving the clock on a second at a time
    /// until the work completes.
    /// </summary>
    public async Task<T> AdvancingClockAsync<T>(Task<T> work)
    {
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!work.IsCompleted)
        {
            Time.Advance(TimeSpan.FromSeconds(1));
            await Task.WhenAny(work, Task.Delay(2, patience.Token));
        }

        return await work;
    }

    public ValueTask DisposeAsync() => _services.DisposeAsync();
}

/// <summary>A fake clock that counts the timers created on it, so that a test can tell when something waits on it.</summary>
public sealed class CountingTimeProvider(DateTimeOffset start) : FakeTimeProvider(start)
{
    private int _timers;

    public int Timers => Volatile.Read(ref _timers);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        Interlocked.Increment(ref _timers);
        return base.CreateTimer(callback, state, dueTime, period);
    }
}
