using Microsoft.Extensions.Options;

namespace Inbox.DependencyInjection;

/// <summary>Checks every option at once, so that one start-up error lists every invalid value.</summary>
internal sealed class InboxOptionsValidator : IValidateOptions<InboxOptions>
{
    public ValidateOptionsResult Validate(string? name, InboxOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.DeduplicationWindow <= TimeSpan.Zero)
        {
            failures.Add($"InboxOptions.DeduplicationWindow must be positive; it is {options.DeduplicationWindow}.");
        }

        if (options.PurgeInterval <= TimeSpan.Zero)
        {
            failures.Add($"InboxOptions.PurgeInterval must be positive; it is {options.PurgeInterval}.");
        }

        if (options.PurgeBatchSize is < 1 or > 1_000_000)
        {
            failures.Add($"InboxOptions.PurgeBatchSize must be between 1 and 1,000,000; it is {options.PurgeBatchSize}.");
        }

        if (options.MaxIdLength is < 1 or > 4_000)
        {
            failures.Add($"InboxOptions.MaxIdLength must be between 1 and 4,000; it is {options.MaxIdLength}.");
        }

        if (!Enum.IsDefined(options.LateMessagePolicy))
        {
            failures.Add($"InboxOptions.LateMessagePolicy has no value {(int)options.LateMessagePolicy}; use ProcessAndWarn or Reject.");
        }

        if (!Enum.IsDefined(options.OneRoundTripLookup))
        {
            failures.Add($"InboxOptions.OneRoundTripLookup has no value {(int)options.OneRoundTripLookup}; use Always, WhenRedelivered or Never.");
        }

        if (!Enum.IsDefined(options.ConflictPolicy))
        {
            failures.Add($"InboxOptions.ConflictPolicy has no value {(int)options.ConflictPolicy}; use Reject or Skip.");
        }

        if (options.StoreOutageLimit < TimeSpan.Zero)
        {
            failures.Add($"InboxOptions.StoreOutageLimit must be zero (do not hold) or positive; it is {options.StoreOutageLimit}.");
        }

        if (options.StoreRetryMaxDelay <= TimeSpan.Zero || options.StoreRetryMaxDelay > TimeSpan.FromDays(1))
        {
            failures.Add($"InboxOptions.StoreRetryMaxDelay must be positive and at most a day; it is {options.StoreRetryMaxDelay}.");
        }

        if (options.StoreRetryDelay <= TimeSpan.Zero || options.StoreRetryDelay > options.StoreRetryMaxDelay)
        {
            failures.Add($"InboxOptions.StoreRetryDelay must be positive and at most StoreRetryMaxDelay ({options.StoreRetryMaxDelay}); it is {options.StoreRetryDelay}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
