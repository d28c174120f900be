using Inbox.DependencyInjection;
using Inbox.Operations;
using Inbox.Processing;
using Inbox.Processing.Units;
using Inbox.Purging;
using Inbox.Telemetry;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers an inbox for a DbContext.</summary>
public static class InboxServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="Inbox.IInbox{TDbContext}"/> (scoped, sharing the scope's <typeparamref name="TDbContext"/>),
    /// the purger, telemetry and a start-up check of the DbContext's provider and model. Safe to call more than once;
    /// every <paramref name="configure"/> given is applied in order, after any options configured for every inbox with
    /// <c>services.Configure&lt;InboxOptions&gt;(...)</c>.
    /// </summary>
    /// <typeparam name="TDbContext">The application's DbContext; its model must call <c>modelBuilder.AddInbox()</c>.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options; they are validated when the host starts.</param>
    /// <returns>The same service collection.</returns>
    public static IServiceCollection AddInbox<TDbContext>(this IServiceCollection services, Action<Inbox.InboxOptions>? configure = null)
        where TDbContext : DbContext
    {
        ArgumentNullException.ThrowIfNull(services);

        AddDefaultOptions(services);
        var optionsBuilder = services.AddOptions<Inbox.InboxOptions>(InboxRuntime<TDbContext>.OptionsName);
        if (configure is not null)
        {
            optionsBuilder.Configure(configure);
        }

        optionsBuilder.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<Inbox.InboxOptions>, InboxOptionsValidator>());

        services.AddLogging();
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<InboxTelemetry>();
        if (!services.Any(d => d.ServiceType == typeof(InboxRuntime<TDbContext>)))
        {
            services.AddSingleton(new Inbox.InboxRegistration(typeof(TDbContext)));
        }

        services.TryAddSingleton<UnitHooks<TDbContext>>();
        services.TryAddSingleton<InboxRuntime<TDbContext>>();
        services.TryAddScoped<Inbox.IInbox<TDbContext>, InboxProcessor<TDbContext>>();
        InboxAdminRegistration.Add<TDbContext>(services);

        // The check runs before the purger: hosted services start in registration order.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, InboxStartupCheck<TDbContext>>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, InboxPurger<TDbContext>>());
        return services;
    }

    /// <summary>
    /// Registers the inbox of <typeparamref name="TDbContext"/> with its options bound from configuration, e.g. the
    /// section <c>"Inbox": { "DeduplicationWindow": "2.00:00:00", "LateMessagePolicy": "Reject" }</c>; see
    /// <see cref="AddInbox{TDbContext}(IServiceCollection, Action{Inbox.InboxOptions})"/>. The section is read again when
    /// it reloads; the values are validated when the host starts.
    /// </summary>
    /// <typeparam name="TDbContext">The application's DbContext; its model must call <c>modelBuilder.AddInbox()</c>.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The configuration section that holds the <see cref="Inbox.InboxOptions"/> values.</param>
    /// <param name="configure">Sets further options after the section is bound.</param>
    /// <returns>The same service collection.</returns>
    public static IServiceCollection AddInbox<TDbContext>(this IServiceCollection services, IConfiguration configuration, Action<Inbox.InboxOptions>? configure = null)
        where TDbContext : DbContext
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        AddDefaultOptions(services);
        services.AddOptions<Inbox.InboxOptions>(InboxRuntime<TDbContext>.OptionsName).Bind(configuration);
        return services.AddInbox<TDbContext>(configure);
    }

    // Options configured without a name (services.Configure<InboxOptions>(section)) are every inbox's starting point:
    // registered before any inbox's own configuration, so that the latter is applied after it.
    private static void AddDefaultOptions(IServiceCollection services)
        => services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<Inbox.InboxOptions>, InboxDefaultOptions>());
}
