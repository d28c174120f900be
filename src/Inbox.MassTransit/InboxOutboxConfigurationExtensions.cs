using Inbox.MassTransit.Outbox;
using MassTransit.DependencyInjection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace MassTransit;

/// <summary>MassTransit's publishes and sends through Inbox's transactional outbox: <c>x.AddInboxOutbox&lt;TDbContext&gt;()</c>.</summary>
public static class InboxOutboxConfigurationExtensions
{
    /// <summary>
    /// Sends what inboxed consumers publish and send through the outbox of <typeparamref name="TDbContext"/>: inside a
    /// consumer with <c>cfg.UseInbox(context)</c>, <c>context.Publish</c>, <c>context.Send</c> and <c>RespondAsync</c>
    /// write outbox rows in the consumer's transaction (nothing leaves before the commit, a rolled-back attempt sends
    /// nothing, a duplicate delivery publishes nothing), and the outbox's dispatcher delivers them through this bus,
    /// with the MessageId they were given, once the broker confirms. Outside consumers (an HTTP endpoint, a background
    /// job), the scope's <c>IPublishEndpoint</c> and <c>ISendEndpointProvider</c> write to the outbox as well: the message
    /// commits with the scope's DbContext's next <c>SaveChanges</c>, and a DbContext never saved sends nothing. Registers the outbox
    /// (<c>services.AddOutbox&lt;TDbContext&gt;()</c>) with a MassTransit transport; its model needs
    /// <c>modelBuilder.AddOutbox()</c>. Call it inside <c>AddMassTransit</c>.
    /// </summary>
    /// <typeparam name="TDbContext">The DbContext whose inbox records the consumed messages and whose outbox holds what they send.</typeparam>
    /// <param name="configurator">The bus registration configurator of <c>AddMassTransit(x =&gt; ...)</c>.</param>
    /// <param name="configure">Sets the outbox's options (poll interval, batch size, attempts).</param>
    public static void AddInboxOutbox<TDbContext>(this IBusRegistrationConfigurator configurator, Action<Inbox.OutboxOptions>? configure = null)
        where TDbContext : DbContext
    {
        ArgumentNullException.ThrowIfNull(configurator);
        configurator.AddOutbox<TDbContext>(o =>
        {
            o.AddTransport(
                MassTransitOutboxMessages.Transport,
                services => new MassTransitOutboxTransport(services.GetRequiredService<IBus>(), services.GetRequiredService<ILoggerFactory>().CreateLogger("Inbox.MassTransit.Outbox")));
            configure?.Invoke(o);
        });
        if (!configurator.Any(d => d.ServiceType == typeof(InboxOutboxMarker) && d.ImplementationInstance is InboxOutboxMarker m && m.DbContextType == typeof(TDbContext)))
        {
            configurator.AddSingleton(new InboxOutboxMarker(typeof(TDbContext)));
        }

        configurator.TryAddSingleton(TimeProvider.System);

        // Outside consumers, the scope's IPublishEndpoint and ISendEndpointProvider write to the outbox too.
        configurator.ReplaceScoped<IScopedBusContextProvider<IBus>, InboxOutboxScopedBusContextProvider<TDbContext>>();
    }
}
