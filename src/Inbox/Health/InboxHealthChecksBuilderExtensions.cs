using Inbox.Health;
using Inbox.Outbox;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the inbox health check.</summary>
public static class InboxHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds a check that reports <see cref="HealthStatus.Unhealthy"/> (or <paramref name="failureStatus"/>) when the
    /// inbox table of <typeparamref name="TDbContext"/> cannot be read, and <see cref="HealthStatus.Degraded"/> when
    /// its oldest record is older than the deduplication window plus two purge intervals.
    /// </summary>
    /// <typeparam name="TDbContext">The DbContext registered with <c>services.AddInbox&lt;TDbContext&gt;()</c>.</typeparam>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's name.</param>
    /// <param name="failureStatus">The status when the table cannot be read.</param>
    /// <param name="tags">Tags for filtering checks.</param>
    /// <returns>The same builder.</returns>
    public static IHealthChecksBuilder AddInbox<TDbContext>(
        this IHealthChecksBuilder builder,
        string name = "inbox",
        HealthStatus failureStatus = HealthStatus.Unhealthy,
        IEnumerable<string>? tags = null)
        where TDbContext : DbContext
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        return builder.AddCheck<InboxHealthCheck<TDbContext>>(name, failureStatus, tags ?? []);
    }

    /// <summary>
    /// Adds a check of the outbox of <typeparamref name="TDbContext"/>: <see cref="HealthStatus.Unhealthy"/> (or
    /// <paramref name="failureStatus"/>) when its table cannot be read, <see cref="HealthStatus.Degraded"/> when the oldest
    /// pending message is older than <c>OutboxOptions.PendingAgeThreshold</c> or messages are kept as failed. Its data
    /// has the pending and failed counts and the oldest pending message's age.
    /// </summary>
    /// <typeparam name="TDbContext">The DbContext registered with <c>services.AddOutbox&lt;TDbContext&gt;()</c>.</typeparam>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's name.</param>
    /// <param name="failureStatus">The status when the table cannot be read.</param>
    /// <param name="tags">Tags for filtering checks.</param>
    /// <returns>The same builder.</returns>
    public static IHealthChecksBuilder AddOutbox<TDbContext>(
        this IHealthChecksBuilder builder,
        string name = "outbox",
        HealthStatus failureStatus = HealthStatus.Unhealthy,
        IEnumerable<string>? tags = null)
        where TDbContext : DbContext
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        return builder.AddCheck<OutboxHealthCheck<TDbContext>>(name, failureStatus, tags ?? []);
    }
}
