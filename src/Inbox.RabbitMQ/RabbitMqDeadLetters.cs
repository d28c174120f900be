using Inbox.Operations;
using Inbox.RabbitMQ.DeadLettering;

namespace Inbox.RabbitMQ;

/// <summary>Operations on the dead-letter queues the RabbitMQ consumer (or MassTransit) writes.</summary>
public static class RabbitMqDeadLetters
{
    /// <summary>
    /// Moves the selected dead letters of a queue back to the queues they came from: each is published with publisher
    /// confirms and only then acknowledged in the dead-letter queue, so none is lost, and a replay stopped at any point
    /// resumes with what is left. Dead letters not selected stay in the queue, in their order.
    /// </summary>
    /// <param name="options">The queue, the filters and the broker.</param>
    /// <param name="cancellationToken">Stops the replay; what was confirmed is acknowledged.</param>
    /// <returns>What was read, selected and replayed.</returns>
    /// <exception cref="ArgumentException">The options name no dead-letter queue, or a limit below 1.</exception>
    /// <exception cref="InvalidOperationException">The dead-letter queue does not exist.</exception>
    public static Task<DeadLetterReplayResult> ReplayAsync(RabbitMqDeadLetterReplayOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.DeadLetterQueue, nameof(options.DeadLetterQueue));
        if (options.Limit is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Limit, "The limit must be at least 1.");
        }

        return new DeadLetterReplay(options).RunAsync(cancellationToken);
    }
}
