using MassTransit;
using MassTransit.Clients;
using MassTransit.DependencyInjection;
using Microsoft.EntityFrameworkCore;

namespace Inbox.MassTransit.Outbox;

/// <summary>
/// The scope's bus context with the outbox on: in a consumer's scope, MassTransit's own (a consumer's
/// <c>context.Publish</c> and <c>context.Send</c> go through the outbox via the inbox filter); anywhere else,
/// <see cref="InboxOutboxBusContext{TDbContext}"/>, so that <see cref="IPublishEndpoint"/> and
/// <see cref="ISendEndpointProvider"/> write to the outbox.
/// </summary>
internal sealed class InboxOutboxScopedBusContextProvider<TDbContext> : IScopedBusContextProvider<IBus>
    where TDbContext : DbContext
{
    public InboxOutboxScopedBusContextProvider(
        IBus bus,
        Bind<IBus, IClientFactory> clientFactory,
        Bind<IBus, IScopedConsumeContextProvider> busConsumeContextProvider,
        IScopedConsumeContextProvider globalConsumeContextProvider,
        IServiceProvider provider)
    {
        if (busConsumeContextProvider.Value.HasContext)
        {
            // In a consumer's scope: whatever consume context the scope holds when a message is sent (the inbox pushes
            // its outbox context while it runs the consumer).
            var scoped = busConsumeContextProvider.Value;
            Context = new ConsumerScopeBusContext(new CurrentConsumeContextEndpoint(scoped.GetContext), new ScopedClientFactory(clientFactory.Value, scoped.GetContext()));
        }
        else if (globalConsumeContextProvider.HasContext)
        {
            Context = new ConsumeContextScopedBusContext<IBus>(bus, globalConsumeContextProvider.GetContext(), clientFactory.Value, provider);
        }
        else
        {
            Context = new InboxOutboxBusContext<TDbContext>(bus, clientFactory.Value, provider);
        }
    }

    public ScopedBusContext Context { get; }

    private sealed class ConsumerScopeBusContext(CurrentConsumeContextEndpoint endpoint, IScopedClientFactory clientFactory) : ScopedBusContext
    {
        public ISendEndpointProvider SendEndpointProvider => endpoint;

        public IPublishEndpoint PublishEndpoint => endpoint;

        public IScopedClientFactory ClientFactory => clientFactory;
    }
}
