using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Inbox.Kafka.Health;

/// <summary>
/// Unhealthy when a subscription's consumer stopped by itself (a fatal Kafka error, a failed partition worker, the
/// database down past <c>InboxOptions.StoreOutageLimit</c>): the process may look alive while nothing is consumed.
/// </summary>
internal sealed class InboxKafkaHealthCheck(KafkaConsumerStates states) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var data = new Dictionary<string, object>();
        var failures = new List<string>();
        foreach (var state in states.All)
        {
            var (assigned, paused) = state.Partitions();
            data[state.Consumer] = state.Failure is { } failure
                ? $"stopped: {failure}"
                : $"{(state.Running ? "running" : "not running")}; {assigned} partitions assigned, {paused} paused";
            if (state.Failure is not null)
            {
                failures.Add($"Kafka consumer {state.Consumer} ({state.Topics}) stopped: {state.Failure}");
            }
        }

        return Task.FromResult(failures.Count > 0
            ? new HealthCheckResult(context.Registration.FailureStatus, string.Join(" ", failures), data: data)
            : HealthCheckResult.Healthy($"{data.Count} Kafka consumers running.", data));
    }
}
