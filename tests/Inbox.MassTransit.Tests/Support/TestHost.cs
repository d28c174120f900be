using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Inbox.MassTransit.Tests.Support;

/// <summary>A host with the ShopDbContext inbox and a MassTransit bus, the way an application wires them.</summary>
public sealed class TestHost : IAsyncDisposable
{
    private TestHost(IHost host) => Host = host;

    public IHost Host { get; }

    public IServiceProvider Services => Host.Services;

    public Probe Probe => Services.GetRequiredService<Probe>();

    public IBus Bus => Services.GetRequiredService<IBus>();

    public static Action<DbContextOptionsBuilder> Sqlite(string connectionString) => o => o.UseSqlite(connectionString);

    public static Action<DbContextOptionsBuilder> Postgres(string connectionString) => o => o.UseNpgsql(connectionString);

    /// <summary>Builds the host, creates the schema and starts the bus.</summary>
    public static async Task<TestHost> StartAsync(
        Action<DbContextOptionsBuilder> database,
        Action<IBusRegistrationConfigurator> configureBus,
        Action<IServiceCollection>? configureServices = null,
        bool addInbox = true,
        bool start = true)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddDbContext<ShopDbContext>(database);
        if (addInbox)
        {
            builder.Services.AddInbox<ShopDbContext>(o => o.PurgeEnabled = false);
        }

        builder.Services.AddSingleton<Probe>();
        configureServices?.Invoke(builder.Services);
        builder.Services.AddMassTransit(configureBus);
        builder.Services.Configure<MassTransitHostOptions>(o => o.WaitUntilStarted = true);

        var host = new TestHost(builder.Build());
        await using (var scope = host.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<ShopDbContext>().Database.EnsureCreatedAsync();
        }

        if (start)
        {
            await host.Host.StartAsync();
        }

        return host;
    }

    /// <summary>
    /// Builds and starts a host whose bus runs on the test RabbitMQ broker with <see cref="ShipOrderConsumer"/>
    /// registered; <paramref name="configure"/> sets up the bus (retry, UseInbox, endpoints).
    /// </summary>
    public static async Task<TestHost> StartRabbitMqAsync(
        Action<DbContextOptionsBuilder> database,
        Action<IBusRegistrationContext, IRabbitMqBusFactoryConfigurator> configure,
        Action<IServiceCollection>? configureServices = null,
        Action<IBusRegistrationConfigurator>? registration = null)
    {
        var broker = await Inbox.Testing.Servers.RabbitMqAsync();
        var credentials = broker.UserInfo.Split(':');
        return await StartAsync(
            database,
            x =>
            {
                if (registration is null)
                {
                    x.AddConsumer<ShipOrderConsumer>();
                }
                else
                {
                    registration(x);
                }

                x.UsingRabbitMq((context, cfg) =>
                {
                    cfg.Host(broker.Host, (ushort)broker.Port, "/", h =>
                    {
                        h.Username(Uri.UnescapeDataString(credentials[0]));
                        h.Password(Uri.UnescapeDataString(credentials[1]));
                    });
                    configure(context, cfg);
                });
            },
            configureServices);
    }

    public async Task<T> QueryAsync<T>(Func<ShopDbContext, Task<T>> query)
    {
        await using var scope = Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<ShopDbContext>());
    }

    public Task<int> ShippedCountAsync() => QueryAsync(db => db.ShippedOrders.CountAsync());

    public Task<int> InboxCountAsync() => QueryAsync(db => db.Database.SqlQueryRaw<int>("SELECT count(*) AS \"Value\" FROM inbox_messages").SingleAsync());

    public Task<int> OutboxCountAsync() => QueryAsync(db => db.Database.SqlQueryRaw<int>("SELECT CAST(count(*) AS integer) AS \"Value\" FROM outbox_messages").SingleAsync());

    public async ValueTask DisposeAsync()
    {
        await Host.StopAsync();
        Host.Dispose();
    }
}
