using Microsoft.Extensions.Hosting;

namespace Inbox.Kafka.Tests.Infrastructure;

/// <summary>A started host that stops gracefully (consumers finish, commit and leave the group) before it is disposed.</summary>
public sealed class StartedHost(IHost host) : IAsyncDisposable
{
    public IServiceProvider Services => host.Services;

    public async ValueTask DisposeAsync()
    {
        await host.StopAsync(TimeSpan.FromSeconds(30));
        host.Dispose();
    }
}
