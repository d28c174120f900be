using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Inbox.Testing;

/// <summary>
/// Proves in a unit test that a MassTransit consumer behind <c>cfg.UseInbox</c> is exactly-once:
/// <c>MassTransitScenario.For&lt;AppDbContext&gt;(services, x =&gt; x.AddConsumer&lt;OrderConsumer&gt;())
/// .Send(message).ShouldBeExactlyOnceAsync()</c> runs it on the in-memory transport with the inbox on its endpoint.
/// </summary>
public static class MassTransitScenario
{
    /// <summary>Starts a scenario on the application's registrations and its consumers.</summary>
    /// <typeparam name="TDbContext">The application's DbContext, registered with <c>AddInbox&lt;TDbContext&gt;()</c>.</typeparam>
    /// <param name="services">
    /// The application's registrations without <c>AddMassTransit</c> (its DbContext on the test's database,
    /// <c>AddInbox</c>); copied, not changed. No hosted service is started.
    /// </param>
    /// <param name="configure">Registers the consumers, as in <c>AddMassTransit</c> (and <c>x.AddInboxOutbox&lt;TDbContext&gt;()</c> if the app sends through the outbox).</param>
    /// <returns>The scenario, to give the message with <see cref="MassTransitScenario{TDbContext}.Send{TMessage}(TMessage)"/>.</returns>
    public static MassTransitScenario<TDbContext> For<TDbContext>(IServiceCollection services, Action<IBusRegistrationConfigurator> configure)
        where TDbContext : DbContext
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        return new MassTransitScenario<TDbContext>(services, configure);
    }
}
