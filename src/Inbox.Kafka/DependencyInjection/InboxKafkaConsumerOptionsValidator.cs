using Microsoft.Extensions.Options;

namespace Inbox.Kafka.DependencyInjection;

/// <summary>Checks every option of a subscription at once, so that one start-up error lists every invalid value.</summary>
internal sealed class InboxKafkaConsumerOptionsValidator<TMessage> : IValidateOptions<InboxKafkaConsumerOptions<TMessage>>
{
    public ValidateOptionsResult Validate(string? name, InboxKafkaConsumerOptions<TMessage> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        var prefix = $"InboxKafkaConsumerOptions<{typeof(TMessage).Name}>";
        if (options.Topics is null || options.Topics.Count == 0 || options.Topics.Any(string.IsNullOrWhiteSpace))
        {
            failures.Add($"{prefix}.Topics must name at least one topic, none of them blank: set o.Topics = [\"orders\"].");
        }

        if (options.Consumer is null)
        {
            failures.Add($"{prefix}.Consumer is required: set o.Consumer = new ConsumerConfig {{ BootstrapServers = ..., GroupId = ... }}.");
        }
        else
        {
            if (string.IsNullOrWhiteSpace(options.Consumer.BootstrapServers))
            {
                failures.Add($"{prefix}.Consumer.BootstrapServers is required.");
            }

            if (string.IsNullOrWhiteSpace(options.Consumer.GroupId))
            {
                failures.Add($"{prefix}.Consumer.GroupId is required: it names the consumer group and, by default, the inbox consumer.");
            }

            if (options.Consumer.EnableAutoOffsetStore == true)
            {
                failures.Add($"{prefix}.Consumer.EnableAutoOffsetStore must not be true: the inbox stores each offset itself, after its database commit.");
            }
        }

        if (options.ConsumerName is { } consumerName && string.IsNullOrWhiteSpace(consumerName))
        {
            failures.Add($"{prefix}.ConsumerName must not be blank; leave it null to use the group ID.");
        }

        if (options.BatchSize is < 1 or > 10_000)
        {
            failures.Add($"{prefix}.BatchSize must be between 1 and 10,000; it is {options.BatchSize}.");
        }

        if (options.MaxBufferedPerPartition < 2 * options.BatchSize)
        {
            failures.Add($"{prefix}.MaxBufferedPerPartition must be at least twice BatchSize ({2 * options.BatchSize}); it is {options.MaxBufferedPerPartition}.");
        }

        if (options.MaxConcurrentBatches < 1)
        {
            failures.Add($"{prefix}.MaxConcurrentBatches must be at least 1; it is {options.MaxConcurrentBatches}.");
        }

        if (options.MessageIdHeaders is null || options.MessageIdHeaders.Any(string.IsNullOrEmpty))
        {
            failures.Add($"{prefix}.MessageIdHeaders must not be null or contain empty names; use [] for none.");
        }

        if (options.HandlerRetries is < 0 or > 100)
        {
            failures.Add($"{prefix}.HandlerRetries must be between 0 and 100; it is {options.HandlerRetries}.");
        }

        if (options.RetryDelay < TimeSpan.Zero || options.RetryDelay > TimeSpan.FromMinutes(1))
        {
            failures.Add($"{prefix}.RetryDelay must be between 0 and 1 minute; it is {options.RetryDelay}.");
        }

        if (options.RevocationTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{prefix}.RevocationTimeout must be positive; it is {options.RevocationTimeout}.");
        }

        if (options.JsonSerializerOptions is null && options.Deserializer is null)
        {
            failures.Add($"{prefix}.JsonSerializerOptions must not be null unless a Deserializer is given.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
