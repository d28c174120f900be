using System.Text.Json;

namespace Inbox.DependencyInjection;

/// <summary>The checks of the options every broker adapter's consumer has (Kafka's, RabbitMQ's), worded alike.</summary>
internal static class ConsumerOptionsChecks
{
    public static void Check(
        List<string> failures,
        string prefix,
        IList<string>? messageIdHeaders,
        int handlerRetries,
        TimeSpan retryDelay,
        JsonSerializerOptions? jsonSerializerOptions,
        bool hasDeserializer)
    {
        if (messageIdHeaders is null || messageIdHeaders.Any(string.IsNullOrEmpty))
        {
            failures.Add($"{prefix}.MessageIdHeaders must not be null or contain empty names; use [] for none.");
        }

        if (handlerRetries is < 0 or > 100)
        {
            failures.Add($"{prefix}.HandlerRetries must be between 0 and 100; it is {handlerRetries}.");
        }

        if (retryDelay < TimeSpan.Zero || retryDelay > TimeSpan.FromMinutes(1))
        {
            failures.Add($"{prefix}.RetryDelay must be between 0 and 1 minute; it is {retryDelay}.");
        }

        if (jsonSerializerOptions is null && !hasDeserializer)
        {
            failures.Add($"{prefix}.JsonSerializerOptions must not be null unless a Deserializer is given.");
        }
    }
}
