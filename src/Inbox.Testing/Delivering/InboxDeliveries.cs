using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Inbox.Testing.Delivering;

/// <summary>Deliveries through <c>IInbox&lt;TDbContext&gt;.ProcessAsync</c>, each in a scope of its own, as a worker runs them.</summary>
internal sealed class InboxDeliveries<TDbContext>(
    IServiceProvider services, string consumer, string messageId, Func<IServiceProvider, TDbContext, CancellationToken, Task> handler) : IScenarioDeliveries
    where TDbContext : DbContext
{
    public static IInbox<TDbContext> Inbox(IServiceProvider scope) => scope.GetService<IInbox<TDbContext>>() ?? throw new InvalidOperationException(
        $"The services have no IInbox<{typeof(TDbContext).Name}>: pass the application's registrations, with services.AddInbox<{typeof(TDbContext).Name}>().");

    public async Task<ScenarioDelivery> DeliverAsync(bool crashBeforeCommit, bool redelivered, CancellationToken cancellationToken)
    {
        var scope = services.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            var inbox = Inbox(scope.ServiceProvider);
            try
            {
                var outcome = await inbox.ProcessAsync(
                    consumer,
                    new InboxMessage(messageId) { Redelivered = redelivered },
                    async (db, token) =>
                    {
                        // The handler's work, then the crash before the inbox saves and commits.
                        await handler(scope.ServiceProvider, db, token).ConfigureAwait(false);
                        if (crashBeforeCommit)
                        {
                            throw new SimulatedCrashException();
                        }
                    },
                    cancellationToken).ConfigureAwait(false);
                return new ScenarioDelivery(outcome, null);
            }
            catch (Exception exception) when (SimulatedCrashException.Is(exception))
            {
                return ScenarioDelivery.Crashed;
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                return new ScenarioDelivery(null, exception);
            }
        }
    }
}
