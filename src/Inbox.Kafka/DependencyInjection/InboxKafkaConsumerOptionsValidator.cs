using Inbox.DependencyInjection;
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

        if (options.ConsumerKey is { } consumerKey && string.IsNullOrWhiteSpace(consumerKey))
        {
            failures.Add($"{prefix}.ConsumerKey must not be blank; leave it null to use the group ID.");
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

        ConsumerOptionsChecks.Check(
            failures, prefix, options.MessageIdHeaders, options.HandlerRetries, options.RetryDelay, options.JsonSerializerOptions, options.Deserializer is not null);

        if (options.RevocationTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{prefix}.RevocationTimeout must be positive; it is {options.RevocationTimeout}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
