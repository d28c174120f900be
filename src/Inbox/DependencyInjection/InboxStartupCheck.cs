using Inbox.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Inbox.DependencyInjection;

/// <summary>
/// Fails the host's start when the DbContext is not registered, uses an unsupported provider or has no inbox in
/// its model, instead of failing on the first message.
/// </summary>
internal sealed class InboxStartupCheck<TDbContext>(IServiceScopeFactory scopes) : IHostedService
    where TDbContext : DbContext
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var scope = scopes.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            var db = scope.ServiceProvider.GetService<TDbContext>() ?? throw new InvalidOperationException(
                $"No {typeof(TDbContext).Name} is registered: call services.AddDbContext<{typeof(TDbContext).Name}>(...) next to services.AddInbox<{typeof(TDbContext).Name}>().");
            InboxDialects.For(db);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
