using Inbox.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Inbox.RabbitMQ.DependencyInjection;

/// <summary>Checks every option of a consumer at once, so that one start-up error lists every invalid value.</summary>
internal sealed class InboxRabbitMqConsumerOptionsValidator<TMessage> : IValidateOptions<InboxRabbitMqConsumerOptions<TMessage>>
{
    public ValidateOptionsResult Validate(string? name, InboxRabbitMqConsumerOptions<TMessage> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        var prefix = $"InboxRabbitMqConsumerOptions<{typeof(TMessage).Name}>";
        if (string.IsNullOrWhiteSpace(options.Queue))
        {
            failures.Add($"{prefix}.Queue is required: set o.Queue = \"billing\".");
        }

        if (options.Connection is null)
        {
            failures.Add($"{prefix}.Connection is required: set o.Connection = new ConnectionFactory {{ Uri = new Uri(\"amqp://...\") }}.");
        }

        if (options.ConsumerKey is { } consumerKey && string.IsNullOrWhiteSpace(consumerKey))
        {
            failures.Add($"{prefix}.ConsumerKey must not be blank; leave it null to use the queue's name.");
        }

        if (options.DeadLetterQueue is { } deadLetterQueue && (string.IsNullOrWhiteSpace(deadLetterQueue) || deadLetterQueue == options.Queue))
        {
            failures.Add($"{prefix}.DeadLetterQueue must be a queue other than Queue; leave it null for \"{options.Queue}.dead-letter\".");
        }

        if (options.PrefetchCount < 1)
        {
            failures.Add($"{prefix}.PrefetchCount must be at least 1: 0 would let the broker send the whole queue ahead.");
        }

        if (options.MaxConcurrency is < 1 or > ushort.MaxValue)
        {
            failures.Add($"{prefix}.MaxConcurrency must be between 1 and {ushort.MaxValue}; it is {options.MaxConcurrency}.");
        }

        if (options.BatchSize < 1)
        {
            failures.Add($"{prefix}.BatchSize must be at least 1; it is {options.BatchSize}.");
        }
        else if (options.BatchSize > options.PrefetchCount)
        {
            failures.Add($"{prefix}.BatchSize ({options.BatchSize}) must not exceed PrefetchCount ({options.PrefetchCount}): a batch holds only what the broker sends ahead. Set PrefetchCount to twice the batch size.");
        }

        ConsumerOptionsChecks.Check(
            failures, prefix, options.MessageIdHeaders, options.HandlerRetries, options.RetryDelay, options.JsonSerializerOptions, options.Deserializer is not null);

        if (options.ShutdownTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{prefix}.ShutdownTimeout must be positive; it is {options.ShutdownTimeout}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
