using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Inbox.DependencyInjection;

/// <summary>
/// How a broker adapter registers one hosted consumer (a Kafka subscription, a RabbitMQ queue): named options of its
/// own, validated at start-up, a scoped handler and the hosted service that reads those options by name.
/// </summary>
internal static class ConsumerRegistration
{
    /// <summary>Registers the consumer and returns the name its options are configured under.</summary>
    public static string Add<TOptions, TValidator, THandler, TService>(IServiceCollection services)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
        where THandler : class
        where TService : IHostedService
    {
        // Each consumer has named options of its own, so that two consumers of one message type do not mix.
        var name = $"{typeof(THandler).FullName}:{Guid.NewGuid():N}";
        services.AddOptions<TOptions>(name).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>, TValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddScoped<THandler>();
        services.AddSingleton<IHostedService>(sp => ActivatorUtilities.CreateInstance<TService>(sp, name));
        return name;
    }

    /// <summary>
    /// Binds the consumer's options to a configuration section. The binder appends a section's list to the default one;
    /// the message ID headers given in configuration replace the defaults instead.
    /// </summary>
    public static OptionsBuilder<TOptions> Bind<TOptions>(IServiceCollection services, string name, IConfiguration configuration, Action<TOptions, IList<string>> setHeaders, Action<TOptions>? configure)
        where TOptions : class
    {
        var builder = services.AddOptions<TOptions>(name)
            .Bind(configuration)
            .Configure(o =>
            {
                if (configuration.GetSection("MessageIdHeaders").Get<List<string>>() is { } headers)
                {
                    setHeaders(o, headers);
                }
            });
        return configure is null ? builder : builder.Configure(configure);
    }
}
