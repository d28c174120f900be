using Microsoft.Extensions.Options;

namespace Inbox.AspNetCore;

/// <summary>Checks <see cref="IdempotencyKeyOptions"/> at start-up; one error lists every problem.</summary>
internal sealed class IdempotencyKeyOptionsValidator : IValidateOptions<IdempotencyKeyOptions>
{
    private const int MaxBody = 64 * 1024 * 1024;

    public ValidateOptionsResult Validate(string? name, IdempotencyKeyOptions options)
    {
        var failures = new List<string>();
        if (options.DeduplicationWindow <= TimeSpan.Zero)
        {
            failures.Add($"IdempotencyKeyOptions.DeduplicationWindow is {options.DeduplicationWindow}: give a positive time span (the default is 24 hours).");
        }

        if (options.InFlightWait < TimeSpan.Zero || options.InFlightWait > TimeSpan.FromSeconds(30))
        {
            failures.Add($"IdempotencyKeyOptions.InFlightWait is {options.InFlightWait}: give zero (answer 409 at once) up to 30 seconds.");
        }

        if (options.MaxStoredBodySize is < 0 or > MaxBody)
        {
            failures.Add($"IdempotencyKeyOptions.MaxStoredBodySize is {options.MaxStoredBodySize}: give 0 to {MaxBody} bytes.");
        }

        if (options.ReplayedHeaders.Any(string.IsNullOrWhiteSpace))
        {
            failures.Add("IdempotencyKeyOptions.ReplayedHeaders holds an empty header name.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
