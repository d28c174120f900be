using Inbox.Resilience;
using Inbox.Telemetry;
using Microsoft.Extensions.Logging;
using Polly;

namespace Inbox.Processing;

/// <summary>
/// Holds a unit of work through a store outage: a <see cref="InboxFailureKind.Store"/> failure runs the whole unit
/// again (a new transaction on a clean change tracker) with exponential back-off and jitter, until the database
/// answers or <see cref="InboxOptions.StoreOutageLimit"/> has passed since the first failure. Any other failure
/// passes straight through. It sits outside EF Core's execution strategy, which may retry a few times on its own.
/// </summary>
internal sealed class StoreRetry
{
    private static readonly ResiliencePropertyKey<long> OutageStarted = new("inbox.store-outage-started");
    private static readonly ResiliencePropertyKey<string> Consumer = new("inbox.consumer");

    private readonly ResiliencePipeline _pipeline;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly InboxTelemetry _telemetry;
    private readonly TimeSpan _limit;

    /// <summary>How long an outage is held before the failure is thrown (<see cref="InboxOptions.StoreOutageLimit"/>).</summary>
    public TimeSpan Limit => _limit;

    public StoreRetry(InboxOptions options, TimeProvider time, InboxTelemetry telemetry, ILogger logger)
    {
        _time = time;
        _logger = logger;
        _telemetry = telemetry;
        _limit = options.StoreOutageLimit;
        if (_limit <= TimeSpan.Zero)
        {
            _pipeline = ResiliencePipeline.Empty;
            return;
        }

        _pipeline = Backoff.Build(time, options.StoreRetryDelay, options.StoreRetryMaxDelay, ShouldRetry, args =>
        {
            var consumer = args.Context.Properties.GetValue(Consumer, "");
            _telemetry.RecordStoreRetry(consumer);
            var exception = args.Outcome.Exception!;
            if (args.AttemptNumber == 0)
            {
                Log.StoreFailed(_logger, consumer, args.RetryDelay, exception);
            }
            else
            {
                Log.StoreStillFailing(_logger, consumer, args.AttemptNumber + 1, Held(args.Context), args.RetryDelay, exception.Message);
            }
        });
    }

    /// <summary>Runs <paramref name="unit"/>, again and again while the store fails; returns what it returned.</summary>
    public async Task<TResult> ExecuteAsync<TResult, TState>(
        string consumer, Func<TState, CancellationToken, Task<TResult>> unit, TState state, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        try
        {
            context.Properties.Set(Consumer, consumer);
            var result = await _pipeline.ExecuteAsync(
                static async (context, s) => await s.Unit(s.State, context.CancellationToken).ConfigureAwait(false),
                context,
                (Unit: unit, State: state)).ConfigureAwait(false);
            if (context.Properties.TryGetValue(OutageStarted, out _))
            {
                Log.StoreRecovered(_logger, consumer, Held(context));
            }

            return result;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private bool ShouldRetry(Exception exception, ResilienceContext context)
    {
        if (context.CancellationToken.IsCancellationRequested || InboxFailures.Classify(exception) != InboxFailureKind.Store)
        {
            return false;
        }

        if (!context.Properties.TryGetValue(OutageStarted, out _))
        {
            context.Properties.Set(OutageStarted, _time.GetTimestamp());
        }

        var held = Held(context);
        if (held < _limit)
        {
            return true;
        }

        Log.StoreOutageLimitReached(_logger, context.Properties.GetValue(Consumer, ""), held, _limit, exception);
        return false;
    }

    private TimeSpan Held(ResilienceContext context)
        => context.Properties.TryGetValue(OutageStarted, out var started) ? _time.GetElapsedTime(started) : TimeSpan.Zero;
}
