using Inbox.Outbox.Dispatching;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Inbox.Outbox;

/// <summary>
/// Unhealthy when the outbox table cannot be read; degraded when its oldest pending message is older than
/// <see cref="OutboxOptions.PendingAgeThreshold"/> (the broker is down or the dispatcher not running) or messages are
/// kept as failed.
/// </summary>
internal sealed class OutboxHealthCheck<TDbContext>(IServiceScopeFactory scopes, IOptionsMonitor<OutboxOptions> options, TimeProvider time) : IHealthCheck
    where TDbContext : DbContext
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            var scope = scopes.CreateAsyncScope();
            await using (scope.ConfigureAwait(false))
            {
                var backlog = await OutboxBacklog.ReadAsync(scope.ServiceProvider.GetRequiredService<TDbContext>(), cancellationToken).ConfigureAwait(false);
                var age = backlog.OldestCreatedAt is { } oldest ? time.GetUtcNow() - oldest : TimeSpan.Zero;
                var threshold = options.Get(OutboxDispatcher<TDbContext>.OptionsName).PendingAgeThreshold;
                var data = new Dictionary<string, object>
                {
                    ["pending"] = backlog.Pending,
                    ["oldest_pending_age_seconds"] = age.TotalSeconds,
                    ["failed"] = backlog.Failed,
                };
                if (age > threshold)
                {
                    return HealthCheckResult.Degraded($"The oldest pending outbox message is {age} old, more than {threshold}: the broker is unreachable or the dispatcher is not running.", data: data);
                }

                return backlog.Failed > 0
                    ? HealthCheckResult.Degraded($"{backlog.Failed} outbox messages were refused too often and are kept as failed: re-send or delete them.", data: data)
                    : HealthCheckResult.Healthy($"{backlog.Pending} outbox messages pending; the oldest is {age} old.", data);
            }
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "The outbox table cannot be read.", exception);
        }
    }
}
