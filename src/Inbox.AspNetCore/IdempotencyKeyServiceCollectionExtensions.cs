using Inbox.AspNetCore;
using Inbox.AspNetCore.Http;
using Inbox.AspNetCore.Storage;
using Inbox.AspNetCore.Telemetry;
using Inbox.Operations;
using Inbox.Processing.Units;
using Inbox.Purging;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the idempotency key store for ASP.NET Core endpoints.</summary>
public static class IdempotencyKeyServiceCollectionExtensions
{
    /// <summary>
    /// Keeps <c>Idempotency-Key</c>s and their responses in <typeparamref name="TDbContext"/>, whose model needs
    /// <c>modelBuilder.AddIdempotencyKeys()</c> and which needs <c>services.AddInbox&lt;TDbContext&gt;()</c> too (its purger
    /// deletes keys older than <see cref="IdempotencyKeyOptions.DeduplicationWindow"/>; the host fails to start without it): an endpoint that requires a key runs in one transaction on the request's
    /// <typeparamref name="TDbContext"/> with the key and its stored response. Add <c>app.UseIdempotencyKeys()</c> to the
    /// pipeline and <c>RequireIdempotencyKey()</c> (minimal APIs) or <c>[RequireIdempotencyKey]</c> (MVC) to endpoints.
    /// Safe to call twice for the same DbContext.
    /// </summary>
    /// <typeparam name="TDbContext">The application's DbContext, registered with <c>AddDbContext</c>.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options; validated when the host starts.</param>
    /// <returns>The same service collection.</returns>
    /// <exception cref="InvalidOperationException">Keys are already kept in another DbContext.</exception>
    public static IServiceCollection AddIdempotencyKeys<TDbContext>(this IServiceCollection services, Action<IdempotencyKeyOptions>? configure = null)
        where TDbContext : DbContext
    {
        ArgumentNullException.ThrowIfNull(services);
        var registered = services.FirstOrDefault(d => d.ServiceType == typeof(IdempotencyKeyRunner));
        if (registered is not null && registered.ImplementationType != typeof(IdempotencyKeyRunner<TDbContext>))
        {
            throw new InvalidOperationException(
                $"Idempotency keys are already kept in another DbContext ({registered.ImplementationType?.GenericTypeArguments.FirstOrDefault()?.Name}): call services.AddIdempotencyKeys<T>() for one DbContext only.");
        }

        var options = services.AddOptions<IdempotencyKeyOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<IdempotencyKeyOptions>, IdempotencyKeyOptionsValidator>());
        services.AddLogging();
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IdempotencyTelemetry>();
        services.TryAddSingleton<UnitHooks<TDbContext>>();
        services.TryAddSingleton<IdempotencyKeyRunner, IdempotencyKeyRunner<TDbContext>>();
        services.TryAddSingleton<IIdempotencyKeyTable<TDbContext>, IdempotencyKeyTable<TDbContext>>();
        InboxAdminRegistration.Add<TDbContext>(services);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPurgeTarget<TDbContext>, IdempotencyKeyPurgeTarget<TDbContext>>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, IdempotencyKeyStartupCheck<TDbContext>>());
        return services;
    }
}
