using Inbox;
using Inbox.Operations;
using Inbox.Outbox;
using Inbox.Outbox.Dispatching;
using Inbox.Outbox.Writing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers a transactional outbox for a DbContext.</summary>
public static class OutboxServiceCollectionExtensions
{
    /// <summary>
    /// Registers the outbox of <typeparamref name="TDbContext"/>: the interceptor that orders and announces the rows its
    /// SaveChanges writes, and a hosted dispatcher that sends committed rows through the transports configured here
    /// (<c>o.UseKafka(...)</c>) and deletes each after its broker acknowledged it. Safe to call more than once; every
    /// <paramref name="configure"/> is applied in order. The DbContext must be registered with <c>AddDbContext</c>, and
    /// its model must call <c>modelBuilder.AddOutbox()</c>.
    /// </summary>
    /// <typeparam name="TDbContext">The application's DbContext.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Registers transports and sets the options; validated when the host starts.</param>
    /// <returns>The same service collection.</returns>
    public static IServiceCollection AddOutbox<TDbContext>(this IServiceCollection services, Action<OutboxOptions>? configure = null)
        where TDbContext : DbContext
    {
        ArgumentNullException.ThrowIfNull(services);
        var optionsBuilder = services.AddOptions<OutboxOptions>(OutboxDispatcher<TDbContext>.OptionsName);
        if (configure is not null)
        {
            optionsBuilder.Configure(configure);
        }

        optionsBuilder.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<OutboxOptions>, OutboxOptionsValidator>());
        services.AddLogging();
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<OutboxTelemetry>();
        InboxAdminRegistration.Add<TDbContext>(services);
        if (services.Any(d => d.ServiceType == typeof(OutboxSignal<TDbContext>)))
        {
            return services;
        }

        services.AddSingleton<OutboxSignal<TDbContext>>();
        services.AddSingleton<OutboxSaveInterceptor<TDbContext>>();
        services.ConfigureDbContext<TDbContext>((provider, db) => db.AddInterceptors(provider.GetRequiredService<OutboxSaveInterceptor<TDbContext>>()));
        services.AddSingleton<OutboxDispatcher<TDbContext>>();
        services.AddSingleton<IHostedService>(provider => provider.GetRequiredService<OutboxDispatcher<TDbContext>>());
        return services;
    }

    /// <summary>
    /// Registers the outbox of <typeparamref name="TDbContext"/> with its options bound from configuration, e.g.
    /// <c>"Outbox": { "PollInterval": "00:00:02", "MaxAttempts": 10 }</c>; the transports are code:
    /// <c>AddOutbox&lt;AppDbContext&gt;(configuration.GetSection("Outbox"), o =&gt; o.UseKafka(...))</c>. See
    /// <see cref="AddOutbox{TDbContext}(IServiceCollection, Action{OutboxOptions})"/>.
    /// </summary>
    /// <typeparam name="TDbContext">The application's DbContext.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The configuration section that holds the <see cref="OutboxOptions"/> values.</param>
    /// <param name="configure">Registers transports and sets further options after the section is bound.</param>
    /// <returns>The same service collection.</returns>
    public static IServiceCollection AddOutbox<TDbContext>(this IServiceCollection services, IConfiguration configuration, Action<OutboxOptions>? configure = null)
        where TDbContext : DbContext
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<OutboxOptions>(OutboxDispatcher<TDbContext>.OptionsName).Bind(configuration);
        return services.AddOutbox<TDbContext>(configure);
    }
}
