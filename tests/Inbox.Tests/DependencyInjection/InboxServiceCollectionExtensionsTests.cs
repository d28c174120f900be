using Inbox.Tests.Contract;
using Inbox.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
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
    public void AddInbox_FromAConfigurationSection_BindsEveryKindOfValue()
    {
        var configuration = Configuration(new()
        {
            ["Inbox:DeduplicationWindow"] = "2.00:00:00",
            ["Inbox:LateMessagePolicy"] = "Reject",
            ["Inbox:ConflictPolicy"] = "Skip",
            ["Inbox:PurgeEnabled"] = "false",
            ["Inbox:PurgeBatchSize"] = "500",
            ["Inbox:StoreOutageLimit"] = "00:10:00",
            ["Inbox:OneRoundTrip"] = "true",
            ["Inbox:OneRoundTripLookup"] = "WhenRedelivered",
        });
        var services = new ServiceCollection();

        services.AddInbox<TestDbContext>(configuration.GetSection("Inbox"), o => o.MaxIdLength = 100);

        using var provider = services.BuildServiceProvider();
        var options = OptionsOf(provider);
        Assert.Equal(TimeSpan.FromDays(2), options.DeduplicationWindow);
        Assert.Equal(LateMessagePolicy.Reject, options.LateMessagePolicy);
        Assert.Equal(ConflictPolicy.Skip, options.ConflictPolicy);
        Assert.False(options.PurgeEnabled);
        Assert.Equal(500, options.PurgeBatchSize);
        Assert.Equal(TimeSpan.FromMinutes(10), options.StoreOutageLimit);
        Assert.Equal(100, options.MaxIdLength);
        Assert.True(options.OneRoundTrip);
        Assert.Equal(InboxLookup.WhenRedelivered, options.OneRoundTripLookup);
    }

    [Fact]
    public void ConfigureWithoutAName_IsEveryInboxsStartingPoint_AndItsOwnConfigurationWins()
    {
        var configuration = Configuration(new() { ["Inbox:DeduplicationWindow"] = "3.00:00:00", ["Inbox:PurgeBatchSize"] = "700" });
        var services = new ServiceCollection();

        // The line a Microsoft.Extensions user writes first: it used to configure nothing (the options are per DbContext).
        services.AddInbox<TestDbContext>(o => o.PurgeBatchSize = 42);
        services.Configure<InboxOptions>(configuration.GetSection("Inbox"));

        using var provider = services.BuildServiceProvider();
        var options = OptionsOf(provider);
        Assert.Equal(TimeSpan.FromDays(3), options.DeduplicationWindow);
        Assert.Equal(42, options.PurgeBatchSize);
    }

    [Fact]
    public async Task StartAsync_InvalidValuesFromConfiguration_FailWithOneErrorListingThem()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Inbox:DeduplicationWindow"] = "-01:00:00",
            ["Inbox:StoreRetryDelay"] = "00:10:00",
        });
        builder.Services.AddDbContext<TestDbContext>(o => o.UseSqlite("Data Source=:memory:"));
        builder.Services.AddInbox<TestDbContext>(builder.Configuration.GetSection("Inbox"));
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("DeduplicationWindow must be positive; it is -01:00:00", error.Message, StringComparison.Ordinal);
        Assert.Contains("StoreRetryDelay must be positive and at most StoreRetryMaxDelay", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddInbox_NullConfiguration_ThrowsWithParameterName()
        => Assert.Equal("configuration", Assert.Throws<ArgumentNullException>(() => new ServiceCollection().AddInbox<TestDbContext>((IConfiguration)null!)).ParamName);

    [Fact]
    public async Task StartAsync_InvalidOptions_FailsWithOneErrorListingEveryProblem()
    {
        using var host = BuildHost(o => o.UseSqlite("Data Source=:memory:"), o =>
        {
            o.DeduplicationWindow = TimeSpan.Zero;
            o.PurgeBatchSize = 0;
            o.MaxIdLength = 0;
            o.OneRoundTripLookup = (InboxLookup)7;
        });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("DeduplicationWindow must be positive", error.Message, StringComparison.Ordinal);
        Assert.Contains("PurgeBatchSize must be between 1 and 1,000,000", error.Message, StringComparison.Ordinal);
        Assert.Contains("MaxIdLength must be between 1 and 4,000", error.Message, StringComparison.Ordinal);
        Assert.Contains("OneRoundTripLookup has no value 7; use Always, WhenRedelivered or Never", error.Message, StringComparison.Ordinal);
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

    private static IConfiguration Configuration(Dictionary<string, string?> values)
        => new ConfigurationBuilder().AddInMemoryCollection(values).Build();

    private static InboxOptions OptionsOf(IServiceProvider provider)
        => provider.GetRequiredService<IOptionsMonitor<InboxOptions>>().Get(typeof(TestDbContext).FullName);

    private static IHost BuildHost(Action<DbContextOptionsBuilder> db, Action<InboxOptions>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddDbContext<TestDbContext>(db);
        builder.Services.AddInbox<TestDbContext>(configure);
        return builder.Build();
    }

    private sealed class NoInboxDbContext(DbContextOptions<NoInboxDbContext> options) : DbContext(options);
}
