using Inbox.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;

namespace Inbox.RabbitMQ.Tests.Support;

/// <summary>
/// Service B of the chain, in the test's process: an <c>AddInboxRabbitMqConsumer</c> of <see cref="InvoiceCreated"/>
/// on a queue, with a PostgreSQL database of its own (the inbox and <see cref="NotificationsDbContext.Notifications"/>),
/// and no outbox of its own, so that it never sends what service A wrote.
/// </summary>
public sealed class Notifier : IAsyncDisposable
{
    private readonly PostgresDatabase _database;
    private readonly IHost _host;
    private bool _stopped;

    private Notifier(PostgresDatabase database, IHost host, string queue, List<string> logs)
    {
        _database = database;
        _host = host;
        Queue = queue;
        Logs = logs;
        Outcomes = new InboxOutcomeCounter(queue);
    }

    public string Queue { get; }

    public string DeadLetterQueue => Queue + ".dead-letter";

    /// <summary>What B's inbox did: notifications processed, and deliveries skipped as already seen.</summary>
    public InboxOutcomeCounter Outcomes { get; }

    /// <summary>B's warnings and errors (a dead letter says why here).</summary>
    public List<string> Logs { get; }

    /// <summary>Creates B's database and starts its consumer of <paramref name="queue"/> (which it declares).</summary>
    public static async Task<Notifier> StartAsync(Uri broker, string queue)
    {
        var database = await PostgresDatabase.CreateAsync("inbox_rmq_b");
        var logs = new List<string>();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders().AddProvider(new ListLoggerProvider(logs)).SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddDbContext<NotificationsDbContext>(o => o.UseNpgsql(database.ConnectionString));
        builder.Services.AddInbox<NotificationsDbContext>(o => o.PurgeEnabled = false);
        builder.Services.AddInboxRabbitMqConsumer<NotificationsDbContext, InvoiceCreated, InvoiceCreatedHandler>(o =>
        {
            o.Connection = new ConnectionFactory { Uri = broker };
            o.Queue = queue;
        });
        var host = builder.Build();
        var notifier = new Notifier(database, host, queue, logs);
        await using (var db = notifier.NewDbContext())
        {
            await db.Database.EnsureCreatedAsync();
        }

        await host.StartAsync();
        return notifier;
    }

    public NotificationsDbContext NewDbContext()
        => new(new DbContextOptionsBuilder<NotificationsDbContext>().UseNpgsql(_database.ConnectionString).Options);

    public async Task<int> CountAsync()
    {
        await using var db = NewDbContext();
        return await db.Notifications.CountAsync();
    }

    public async Task<List<Notification>> NotificationsAsync()
    {
        await using var db = NewDbContext();
        return await db.Notifications.AsNoTracking().ToListAsync();
    }

    /// <summary>Stops B's consumer: what it had not acknowledged goes back to its queue.</summary>
    public async Task StopAsync()
    {
        if (!_stopped)
        {
            _stopped = true;
            await _host.StopAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _host.Dispose();
        Outcomes.Dispose();
        await _database.DisposeAsync();
    }
}
