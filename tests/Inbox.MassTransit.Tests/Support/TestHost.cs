using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.TestHost;
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

    /// <summary>Gets a client of the host's endpoints (a host started with endpoints only).</summary>
    public HttpClient Client => ((IHost)Host).GetTestClient();

    public static Action<DbContextOptionsBuilder> Sqlite(string connectionString) => o => o.UseSqlite(connectionString);

    public static Action<DbContextOptionsBuilder> Postgres(string connectionString) => o => o.UseNpgsql(connectionString);

    /// <summary>Builds the host, creates the schema and starts the bus.</summary>
    public static async Task<TestHost> StartAsync(
        Action<DbContextOptionsBuilder> database,
        Action<IBusRegistrationConfigurator> configureBus,
        Action<IServiceCollection>? configureServices = null,
        bool addInbox = true,
        bool start = true,
        Action<IEndpointRouteBuilder>? endpoints = null)
    {
        // With endpoints, a web application on ASP.NET Core's in-process test server, reached through Client.
        var web = endpoints is null ? null : WebApplication.CreateSlimBuilder();
        web?.WebHost.UseTestServer();
        IHostApplicationBuilder builder = web is null ? Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder() : web;
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

        IHost built;
        if (web is null)
        {
            built = ((HostApplicationBuilder)builder).Build();
        }
        else
        {
            var app = web.Build();
            endpoints!(app);
            built = app;
        }

        var host = new TestHost(built);
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
        Action<IBusRegistrationConfigurator>? registration = null,
        Action<IEndpointRouteBuilder>? endpoints = null,
        Uri? broker = null)
    {
        broker ??= await Inbox.TestSupport.Servers.RabbitMqAsync();
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
            configureServices,
            endpoints: endpoints);
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
