using Inbox.Kafka.DeadLettering;
using Inbox.Operations;

namespace Inbox.Kafka;

/// <summary>Operations on the dead-letter topics the Kafka consumer writes.</summary>
public static class KafkaDeadLetters
{
    /// <summary>
    /// Produces the selected dead letters of a topic back to the topics they came from, from where the replay's group
    /// stopped (or <see cref="KafkaDeadLetterReplayOptions.From"/>) to the end there is when it starts. Progress is
    /// committed after each chunk the broker acknowledged; a cancelled replay commits what was acknowledged, then throws.
    /// A filtered replay (a reason or message IDs) keeps no progress: the dead letters it leaves stay for the next one.
    /// </summary>
    /// <param name="options">The topic, the filters, and the group that keeps the progress.</param>
    /// <param name="cancellationToken">Stops the replay after the records in flight are acknowledged.</param>
    /// <returns>What was read, selected and replayed.</returns>
    /// <exception cref="ArgumentException">The options name no topic or servers, or a limit below 1.</exception>
    /// <exception cref="InvalidOperationException">The dead-letter topic does not exist.</exception>
    public static Task<DeadLetterReplayResult> ReplayAsync(KafkaDeadLetterReplayOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.DeadLetterTopic, nameof(options.DeadLetterTopic));
        ArgumentException.ThrowIfNullOrWhiteSpace(options.GroupId, nameof(options.GroupId));
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Cluster.BootstrapServers, "options.Cluster.BootstrapServers");
        if (options.Limit is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Limit, "The limit must be at least 1.");
        }

        // On a thread of its own: Confluent's consumer blocks while it reads, and the caller (a UI, a request) should not.
        return Task.Run(() => new DeadLetterReplay(options, TimeProvider.System).RunAsync(cancellationToken), cancellationToken);
    }
}
