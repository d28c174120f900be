using Inbox.Kafka.Health;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the Kafka consumers' health check.</summary>
public static class InboxKafkaHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds a check that reports <see cref="HealthStatus.Unhealthy"/> (or <paramref name="failureStatus"/>) when a
    /// consumer registered with <c>AddInboxKafkaConsumer</c> stopped by itself: a fatal Kafka error, a failed partition
    /// worker, or the database down for longer than <c>InboxOptions.StoreOutageLimit</c>. Its data lists each consumer
    /// with its assigned and paused partitions.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's name.</param>
    /// <param name="failureStatus">The status when a consumer has stopped by itself.</param>
    /// <param name="tags">Tags for filtering checks.</param>
    /// <returns>The same builder.</returns>
    public static IHealthChecksBuilder AddInboxKafka(
        this IHealthChecksBuilder builder,
        string name = "inbox-kafka",
        HealthStatus failureStatus = HealthStatus.Unhealthy,
        IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        builder.Services.AddInboxKafkaCore();
        return builder.AddCheck<InboxKafkaHealthCheck>(name, failureStatus, tags ?? []);
    }
}
