using Inbox.Processing;
using Inbox.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Inbox.Health;

/// <summary>
/// Unhealthy when the inbox table cannot be read; degraded when its oldest record is older than the window (two
/// windows with retention by generations) plus two purge intervals, which means the purger is falling behind or not
/// running.
/// </summary>
internal sealed class InboxHealthCheck<TDbContext>(IServiceScopeFactory scopes, InboxRuntime<TDbContext> runtime) : IHealthCheck
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
                var db = scope.ServiceProvider.GetRequiredService<TDbContext>();
                var dialect = InboxDialects.For(db);
                var oldest = await dialect.GetOldestAsync(db, cancellationToken).ConfigureAwait(false);
                var options = runtime.Options;
                var age = oldest is { } value ? runtime.Time.GetUtcNow() - value : TimeSpan.Zero;
                var data = new Dictionary<string, object> { ["oldest_record_age_seconds"] = age.TotalSeconds };
                // Generations keep the previous generation whole: its records are up to two windows old.
                var windows = dialect.Retention.WindowsKept;
                var limit = (windows * options.DeduplicationWindow) + (2 * options.PurgeInterval);
                return options.PurgeEnabled && age > limit
                    ? HealthCheckResult.Degraded($"The oldest inbox record is {age} old, more than {(windows == 1 ? "the window" : "two windows")} plus two purge intervals ({limit}): the purger is falling behind or not running.", data: data)
                    : HealthCheckResult.Healthy($"The inbox table is reachable; the oldest record is {age} old.", data);
            }
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "The inbox table cannot be read.", exception);
        }
    }
}
