using Inbox.MassTransit.Telemetry;
using MassTransit;
using MassTransit.Transports;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Inbox.MassTransit.Middleware;

/// <summary>
/// What a consumer does when the store stays down: the core holds each message through an outage (retrying its unit
/// with back-off) for up to <c>InboxOptions.StoreOutageLimit</c>. Past that the consumer cannot go on, but the message
/// is not at fault, so it must not reach the user's retry policy and the error queue either. The filter stops the host
/// and cancels the message's receive: an exception while the consume is cancelled is neither retried nor moved to the
/// error queue nor acknowledged, and the unacknowledged message goes back to the broker when the bus stops.
/// </summary>
internal static class StoreOutage
{
    public static async Task<T> HoldAsync<T>(ConsumeContext context, IServiceProvider scope, string consumer, string messageId, Func<Task<T>> unit)
    {
        var cancellationToken = context.CancellationToken;
        try
        {
            return await unit().ConfigureAwait(false);
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested && InboxFailures.Classify(exception) == InboxFailureKind.Store)
        {
            var logger = scope.GetService<ILoggerFactory>()?.CreateLogger("Inbox.MassTransit") ?? NullLogger.Instance;
            Log.StoppingForStoreOutage(logger, consumer, messageId, exception);
            scope.GetService<IHostApplicationLifetime>()?.StopApplication();

            // What MassTransit itself does to a delivery still running when the bus stops. Every transport's receive
            // context derives from BaseReceiveContext; should one not, the message waits for the bus to cancel it.
            (context.ReceiveContext as BaseReceiveContext)?.Cancel();
            await Task.Delay(Timeout.InfiniteTimeSpan, TimeProvider.System, cancellationToken).ConfigureAwait(false);
            throw;
        }
    }
}
