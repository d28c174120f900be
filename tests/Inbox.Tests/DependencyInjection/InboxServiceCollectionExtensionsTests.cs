using Inbox.Tests.Contract;
using Inbox.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Inbox.Tests.DependencyInjection;

public sealed class InboxServiceCollectionExtensionsTests
{
    [Fact]
    public void AddInbox_NullServices_ThrowsWithParameterName()
    {
        var error = Assert.Throws<ArgumentNullException>(() => InboxServiceCollectionExtensions.AddInbox<TestDbContext>(null!));

        Assert.Equal("services", error.ParamName);
    }

    [Fact]
    public void AddInbox_CalledTwice_RegistersEachServiceOnceAndAppliesBothConfigurations()
    {
        var services = new ServiceCollection();
        services.AddDbContext<TestDbContext>(o => o.UseSqlite("Data Source=:memory:"));

        services.AddInbox<TestDbContext>(o => o.DeduplicationWindow = TimeSpan.FromHours(2));
        services.AddInbox<TestDbContext>(o => o.PurgeBatchSize = 5);

        Assert.Single(services, d => d.ServiceType == typeof(IInbox<TestDbContext>));
        Assert.Single(services, d => d.ServiceType == typeof(InboxRegistration));
        Assert.Equal(2, services.Count(d => d.ServiceType == typeof(IHostedService)));
        using var provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<IOptionsMonitor<InboxOptions>>().Get(typeof(TestDbContext).FullName);
        Assert.Equal((TimeSpan.FromHours(2), 5), (options.DeduplicationWindow, options.PurgeBatchSize));
        Assert.Equal(typeof(TestDbContext), provider.GetRequiredService<InboxRegistration>().DbContextType);
    }

    [Fact]
    public async Task StartAsync_InvalidOptions_FailsWithOneErrorListingEveryProblem()
    {
        using var host = BuildHost(o => o.UseSqlite("Data Source=:memory:"), o =>
        {
            o.DeduplicationWindow = TimeSpan.Zero;
            o.PurgeBatchSize = 0;
            o.MaxIdLength = 0;
        });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("DeduplicationWindow must be positive", error.Message, StringComparison.Ordinal);
        Assert.Contains("PurgeBatchSize must be between 1 and 1,000,000", error.Message, StringComparison.Ordinal);
        Assert.Contains("MaxIdLength must be between 1 and 4,000", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_ModelWithoutInbox_FailsNamingTheCallThatFixesIt()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddDbContext<NoInboxDbContext>(o => o.UseSqlite("Data Source=:memory:"));
        builder.Services.AddInbox<NoInboxDbContext>();
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());

        Assert.Contains("call modelBuilder.AddInbox() in NoInboxDbContext.OnModelCreating", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_UnsupportedProvider_FailsNamingTheSupportedOnes()
    {
        using var host = BuildHost(o => o.UseInMemoryDatabase("unsupported"));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());

        Assert.Contains("Microsoft.EntityFrameworkCore.InMemory", error.Message, StringComparison.Ordinal);
        Assert.Contains("PostgreSQL (options.UseNpgsql(...)) and SQLite (options.UseSqlite(...))", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_DbContextNotRegistered_FailsNamingAddDbContext()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddInbox<TestDbContext>();
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());

        Assert.Contains("services.AddDbContext<TestDbContext>", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_SupportedSetup_StartsAndStops()
    {
        using var database = new SqliteDatabase();
        using var host = BuildHost(o => o.UseSqlite(database.ConnectionString), o => o.PurgeEnabled = false);

        await host.StartAsync();
        await host.StopAsync();
    }

    private static IHost BuildHost(Action<DbContextOptionsBuilder> db, Action<InboxOptions>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddDbContext<TestDbContext>(db);
        builder.Services.AddInbox<TestDbContext>(configure);
        return builder.Build();
    }

    private sealed class NoInboxDbContext(DbContextOptions<NoInboxDbContext> options) : DbContext(options);
}
