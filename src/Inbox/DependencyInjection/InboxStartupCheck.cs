using Inbox.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Inbox.DependencyInjection;

/// <summary>
/// Fails the host's start when the DbContext is not registered, uses an unsupported provider or has no inbox in
/// its model, or asks for options that do not go together, instead of failing on the first message.
/// </summary>
internal sealed class InboxStartupCheck<TDbContext>(IServiceScopeFactory scopes, Inbox.Processing.InboxRuntime<TDbContext> runtime) : IHostedService
    where TDbContext : DbContext
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var scope = scopes.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            var dialect = InboxDialects.For(RequiredDbContext(scope.ServiceProvider, "AddInbox"));
            if (runtime.Options.OneRoundTrip && !dialect.Retention.SupportsOneRoundTrip)
            {
                throw new InvalidOperationException(
                    $"InboxOptions.OneRoundTrip does not work with retention by generations yet: {typeof(TDbContext).Name}'s inbox " +
                    "uses InboxRetention.Generations. Turn one of them off.");
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The scope's <typeparamref name="TDbContext"/>, or an error that names the registration missing next to <paramref name="call"/>.</summary>
    internal static TDbContext RequiredDbContext(IServiceProvider scope, string call)
        => scope.GetService<TDbContext>() ?? throw new InvalidOperationException(
            $"No {typeof(TDbContext).Name} is registered: call services.AddDbContext<{typeof(TDbContext).Name}>(...) next to services.{call}<{typeof(TDbContext).Name}>().");
}
