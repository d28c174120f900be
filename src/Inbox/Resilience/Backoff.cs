using Polly;
using Polly.Retry;

namespace Inbox.Resilience;

/// <summary>
/// The one back-off of the Inbox packages, built once per use: Polly's retry strategy, exponential with jitter, on the
/// injected clock, instead of hand-written delay loops. What is retried, and what is logged for each retry, is the
/// caller's; how long to wait is decided here.
/// </summary>
internal static class Backoff
{
    /// <summary>Builds a pipeline that runs its callback again after a delay while <paramref name="shouldRetry"/> says so.</summary>
    /// <param name="time">The clock the delays run on.</param>
    /// <param name="delay">The first delay; it doubles, with jitter, up to <paramref name="maxDelay"/>.</param>
    /// <param name="maxDelay">The longest delay.</param>
    /// <param name="shouldRetry">Whether a failure is retried; never asked for a success.</param>
    /// <param name="onRetry">Called before each delay (to log it, count it).</param>
    /// <param name="maxRetries">How many times at most the callback runs again after its first run.</param>
    public static ResiliencePipeline Build(
        TimeProvider time,
        TimeSpan delay,
        TimeSpan maxDelay,
        Func<Exception, ResilienceContext, bool> shouldRetry,
        Action<OnRetryArguments<object>> onRetry,
        int maxRetries = int.MaxValue)
        => new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } exception && shouldRetry(exception, args.Context)),
                MaxRetryAttempts = maxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = delay,
                MaxDelay = maxDelay,
                OnRetry = args =>
                {
                    onRetry(args);
                    return default;
                },
            })
            .Build();
}
