using Inbox.Telemetry;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Inbox.Operations;

/// <summary>Registers <see cref="IInboxAdmin{TDbContext}"/>: from <c>AddInbox</c>, <c>AddOutbox</c> and <c>AddIdempotencyKeys</c> alike.</summary>
internal static class InboxAdminRegistration
{
    public static void Add<TDbContext>(IServiceCollection services)
        where TDbContext : DbContext
    {
        services.AddLogging();
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<InboxTelemetry>();
        services.TryAddScoped<IInboxAdmin<TDbContext>, InboxAdmin<TDbContext>>();
    }
}
