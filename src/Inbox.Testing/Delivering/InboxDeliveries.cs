using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Inbox.Testing.Delivering;

/// <summary>Deliveries through <c>IInbox&lt;TDbContext&gt;.ProcessAsync</c>, each in a scope of its own, as a worker runs them.</summary>
internal sealed class InboxDeliveries<TDbContext>(
    IServiceProvider services, string consumer, string messageId, Func<IServiceProvider, TDbContext, CancellationToken, Task> handler, CommitCrash crash) : IScenarioDeliveries
    where TDbContext : DbContext
{
    public static IInbox<TDbContext> Inbox(IServiceProvider scope) => scope.GetService<IInbox<TDbContext>>() ?? throw ScenarioServices.MissingInbox<TDbContext>();

    public async Task<ScenarioDelivery> DeliverAsync(bool crashBeforeCommit, bool redelivered, CancellationToken cancellationToken)
    {
        var scope = services.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            var inbox = Inbox(scope.ServiceProvider);
            if (crashBeforeCommit)
            {
                crash.Arm();
            }

            try
            {
                var outcome = await inbox.ProcessAsync(
                    consumer,
                    new InboxMessage(messageId) { Redelivered = redelivered },
                    (db, token) => handler(scope.ServiceProvider, db, token),
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
            finally
            {
                crash.Disarm();
            }
        }
    }
}
