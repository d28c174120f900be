using System.Diagnostics;

namespace Inbox.Telemetry;

/// <summary>
/// The consumer span of a broker adapter (Kafka, RabbitMQ) on the <c>Inbox</c> activity source: <c>process
/// {destination}</c>, continuing the producer's W3C trace context from the message's <c>traceparent</c> header, so that
/// the inbox's span and whatever the handler sends through the outbox stay in the producer's trace. One message is a
/// child of the current span (a client library's own delivery span, when recorded) or else of its producer's; a batch
/// is a span of its own linked to each producer, as OpenTelemetry's messaging conventions describe batch processing.
/// </summary>
internal static class ConsumerSpan
{
    /// <summary>Whether anybody records the spans: adapters read the headers only then.</summary>
    public static bool Enabled => InboxTelemetry.ActivitySource.HasListeners();

    /// <summary>Starts the span; null when nobody records it.</summary>
    /// <param name="system">The messaging system: <c>kafka</c>, <c>rabbitmq</c>.</param>
    /// <param name="destination">The topic or queue.</param>
    /// <param name="consumer">The inbox consumer key.</param>
    /// <param name="messageId">
    /// The message ID of a single message (empty when it has none), whose span is the producer's child; null for a batch.
    /// </param>
    /// <param name="count">The number of messages.</param>
    /// <param name="producers">The producers' trace contexts found in the messages' headers.</param>
    public static Activity? Start(string system, string destination, string consumer, string? messageId, int count, IReadOnlyList<ActivityContext> producers)
    {
        var source = InboxTelemetry.ActivitySource;
        if (!source.HasListeners())
        {
            return null;
        }

        var name = $"process {destination}";
        var activity = messageId is not null
            ? source.StartActivity(name, ActivityKind.Consumer, Activity.Current?.Context ?? (producers.Count == 1 ? producers[0] : default))
            : source.StartActivity(ActivityKind.Consumer, parentContext: default, links: producers.Select(static p => new ActivityLink(p)), name: name);
        activity?.SetTag("messaging.system", system)
            .SetTag("messaging.operation.type", "process")
            .SetTag("messaging.destination.name", destination)
            .SetTag(InboxTelemetryTags.Consumer, consumer);
        if (messageId is not null)
        {
            activity?.SetTag(InboxTelemetryTags.MessageId, messageId.Length > 0 ? messageId : null);
        }
        else
        {
            activity?.SetTag("messaging.batch.message_count", count);
        }

        return activity;
    }

    /// <summary>Parses a <c>traceparent</c> header (and its <c>tracestate</c>), if valid.</summary>
    public static ActivityContext? Parse(string? traceParent, string? traceState)
        => traceParent is not null && ActivityContext.TryParse(traceParent, traceState, isRemote: true, out var context) ? context : null;
}
