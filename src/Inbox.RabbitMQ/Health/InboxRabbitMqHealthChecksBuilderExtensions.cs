using Inbox.RabbitMQ.Health;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the RabbitMQ consumers' health check.</summary>
public static class InboxRabbitMqHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds a check that reports <see cref="HealthStatus.Unhealthy"/> (or <paramref name="failureStatus"/>) when a
    /// consumer registered with <c>AddInboxRabbitMqConsumer</c> stopped by itself (the database down for longer than
    /// <c>InboxOptions.StoreOutageLimit</c>) or has had no connection to RabbitMQ for longer than
    /// <paramref name="connectionDownThreshold"/> (RabbitMQ.Client keeps reconnecting meanwhile). Its data lists each
    /// consumer with its queue and state.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's name.</param>
    /// <param name="failureStatus">The status when a consumer is down.</param>
    /// <param name="tags">Tags for filtering checks.</param>
    /// <param name="connectionDownThreshold">How long a consumer may be without a connection before it counts as down; 30 s when null.</param>
    /// <returns>The same builder.</returns>
    public static IHealthChecksBuilder AddInboxRabbitMq(
        this IHealthChecksBuilder builder,
        string name = "inbox-rabbitmq",
        HealthStatus failureStatus = HealthStatus.Unhealthy,
        IEnumerable<string>? tags = null,
        TimeSpan? connectionDownThreshold = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        builder.Services.TryAddSingleton<RabbitMqConsumerStates>();
        builder.Services.TryAddSingleton(TimeProvider.System);
        var threshold = connectionDownThreshold ?? TimeSpan.FromSeconds(30);
        return builder.Add(new HealthCheckRegistration(
            name,
            sp => new InboxRabbitMqHealthCheck(sp.GetRequiredService<RabbitMqConsumerStates>(), sp.GetRequiredService<TimeProvider>(), threshold),
            failureStatus,
            tags ?? []));
    }
}
