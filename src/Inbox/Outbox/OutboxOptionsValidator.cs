using Microsoft.Extensions.Options;

namespace Inbox.Outbox;

/// <summary>Checks every outbox option at once, so that one start-up error lists every invalid value.</summary>
internal sealed class OutboxOptionsValidator : IValidateOptions<OutboxOptions>
{
    public ValidateOptionsResult Validate(string? name, OutboxOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.PollInterval <= TimeSpan.Zero)
        {
            failures.Add($"OutboxOptions.PollInterval must be positive; it is {options.PollInterval}.");
        }

        if (options.BatchSize is < 1 or > 10_000)
        {
            failures.Add($"OutboxOptions.BatchSize must be between 1 and 10,000; it is {options.BatchSize}.");
        }

        if (options.MaxAttempts is < 1 or > 1_000)
        {
            failures.Add($"OutboxOptions.MaxAttempts must be between 1 and 1,000; it is {options.MaxAttempts}.");
        }

        if (options.Lanes is < 1 or > 1_024)
        {
            failures.Add($"OutboxOptions.Lanes must be between 1 and 1,024; it is {options.Lanes}.");
        }

        if (options.RetryMaxDelay <= TimeSpan.Zero || options.RetryMaxDelay > TimeSpan.FromDays(1))
        {
            failures.Add($"OutboxOptions.RetryMaxDelay must be positive and at most a day; it is {options.RetryMaxDelay}.");
        }

        if (options.RetryDelay <= TimeSpan.Zero || options.RetryDelay > options.RetryMaxDelay)
        {
            failures.Add($"OutboxOptions.RetryDelay must be positive and at most RetryMaxDelay ({options.RetryMaxDelay}); it is {options.RetryDelay}.");
        }

        if (options.PendingAgeThreshold <= TimeSpan.Zero)
        {
            failures.Add($"OutboxOptions.PendingAgeThreshold must be positive; it is {options.PendingAgeThreshold}.");
        }

        if (options.DispatchEnabled && options.Transports.Count == 0)
        {
            failures.Add("The outbox has no transport to send with: register one, e.g. services.AddOutbox<AppDbContext>(o => o.UseKafka(producerConfig)), or set DispatchEnabled = false in a process that only writes.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
