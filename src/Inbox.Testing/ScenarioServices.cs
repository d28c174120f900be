using Inbox.Processing;
using Inbox.Testing.Escapes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http;

namespace Inbox.Testing;

/// <summary>The application's registrations as a scenario runs them: copied, bounded in time, HTTP and Kafka producers recorded.</summary>
internal static class ScenarioServices
{
    private const int StoreOutageLimitSeconds = 10;

    /// <summary>Builds a provider from a copy of <paramref name="services"/> (the original stays as it was), with <paramref name="more"/> added.</summary>
    public static ServiceProvider Build<TDbContext>(IServiceCollection services, Action<IServiceCollection>? more = null)
        where TDbContext : DbContext
    {
        IServiceCollection copy = new ServiceCollection();
        foreach (var descriptor in services)
        {
            copy.Add(descriptor);
        }

        // A store failure (the database busy or down) is retried for seconds, not for the application's outage limit: a
        // handler that waits on the unit's own lock (SQLite's one writer) then ends the scenario with that error.
        copy.PostConfigure<InboxOptions>(
            InboxRuntime<TDbContext>.OptionsName,
            o => o.StoreOutageLimit = TimeSpan.FromSeconds(Math.Min(o.StoreOutageLimit.TotalSeconds, StoreOutageLimitSeconds)));

        // Every client IHttpClientFactory builds gets a recording handler first: requests are effects no rollback undoes.
        copy.AddSingleton<EffectRecorder>();
        copy.AddSingleton<IHttpMessageHandlerBuilderFilter, RecordingHandlerFilter>();

        // So is a record a Kafka producer from the container sends, and a request of a client made with new.
        RecordingProducers.Wrap(copy);
        copy.AddSingleton<RecordingHttpDiagnostics>();
        more?.Invoke(copy);
        return copy.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });
    }

    /// <summary>The error when the registrations have no inbox for <typeparamref name="TDbContext"/>.</summary>
    public static InvalidOperationException MissingInbox<TDbContext>()
        where TDbContext : DbContext
        => new($"The services have no IInbox<{typeof(TDbContext).Name}>: pass the application's registrations, with services.AddInbox<{typeof(TDbContext).Name}>().");
}
