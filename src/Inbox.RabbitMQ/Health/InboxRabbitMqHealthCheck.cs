using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Inbox.RabbitMQ.Health;

/// <summary>
/// Unhealthy when a consumer stopped by itself (the database down past <c>InboxOptions.StoreOutageLimit</c>) or has had
/// no connection to RabbitMQ for longer than the threshold: the process may look alive while nothing is consumed.
/// </summary>
internal sealed class InboxRabbitMqHealthCheck(RabbitMqConsumerStates states, TimeProvider time, TimeSpan connectionDownThreshold) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var now = time.GetUtcNow();
        var data = new Dictionary<string, object>();
        var failures = new List<string>();
        foreach (var state in states.All)
        {
            var down = state.DownSince is { } since ? now - since : (TimeSpan?)null;
            data[state.Consumer] = state.Failure is { } failure ? $"stopped: {failure}"
                : down is { } d ? $"no connection for {d.TotalSeconds:0.0} s"
                : $"consuming {state.Queue}";
            if (state.Failure is not null)
            {
                failures.Add($"RabbitMQ consumer {state.Consumer} ({state.Queue}) stopped: {state.Failure}");
            }
            else if (down > connectionDownThreshold)
            {
                failures.Add($"RabbitMQ consumer {state.Consumer} ({state.Queue}) has had no connection for {down.Value.TotalSeconds:0} s.");
            }
        }

        return Task.FromResult(failures.Count > 0
            ? new HealthCheckResult(context.Registration.FailureStatus, string.Join(" ", failures), data: data)
            : HealthCheckResult.Healthy($"{data.Count} RabbitMQ consumers, none down past {connectionDownThreshold.TotalSeconds:0} s.", data));
    }
}
