using Inbox.DependencyInjection;
using Inbox.Processing;
using Inbox.Purging;
using Inbox.Telemetry;
using Microsoft.EntityFrameworkCore;
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
    /// every <paramref name="configure"/> given is applied in order.
    /// </summary>
    /// <typeparam name="TDbContext">The application's DbContext; its model must call <c>modelBuilder.AddInbox()</c>.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options; they are validated when the host starts.</param>
    /// <returns>The same service collection.</returns>
    public static IServiceCollection AddInbox<TDbContext>(this IServiceCollection services, Action<Inbox.InboxOptions>? configure = null)
        where TDbContext : DbContext
    {
        ArgumentNullException.ThrowIfNull(services);

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

        services.TryAddSingleton<InboxRuntime<TDbContext>>();
        services.TryAddScoped<Inbox.IInbox<TDbContext>, InboxProcessor<TDbContext>>();

        // The check runs before the purger: hosted services start in registration order.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, InboxStartupCheck<TDbContext>>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, InboxPurger<TDbContext>>());
        return services;
    }
}
