using Inbox.AspNetCore.Storage;
using Inbox.DependencyInjection;
using Inbox.Processing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Inbox.AspNetCore;

/// <summary>
/// Fails the host's start when the keys cannot work: no DbContext, an unsupported provider, no key table in the model,
/// or no inbox (whose purger trims expired keys) for the DbContext.
/// </summary>
internal sealed class IdempotencyKeyStartupCheck<TDbContext>(IServiceProvider services) : IHostedService
    where TDbContext : DbContext
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var name = typeof(TDbContext).Name;
        if (services.GetService<InboxRuntime<TDbContext>>() is null)
        {
            throw new InvalidOperationException(
                $"Idempotency keys are kept in {name}, which has no inbox: call services.AddInbox<{name}>() (its purger deletes expired keys) next to services.AddIdempotencyKeys<{name}>().");
        }

        var scope = services.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            IdempotencyStore.For(InboxStartupCheck<TDbContext>.RequiredDbContext(scope.ServiceProvider, "AddIdempotencyKeys"));
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
