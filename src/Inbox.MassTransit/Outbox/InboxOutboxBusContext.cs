using MassTransit;
using MassTransit.Clients;
using MassTransit.DependencyInjection;
using MassTransit.Middleware;
using MassTransit.Middleware.Outbox;
using MassTransit.Serialization;
using MassTransit.Transports;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Inbox.MassTransit.Outbox;

/// <summary>
/// The "bus outbox": outside consumers (an HTTP endpoint, a background job), the scope's <see cref="IPublishEndpoint"/>
/// and <see cref="ISendEndpointProvider"/> build each message as the bus would and write it to the outbox of the
/// scope's <typeparamref name="TDbContext"/>. It commits with the caller's next <c>SaveChanges</c> (or the caller's own
/// transaction) and is sent after that; a DbContext that is never saved sends nothing.
/// </summary>
internal sealed class InboxOutboxBusContext<TDbContext>(IBus bus, IClientFactory clientFactory, IServiceProvider scope)
    : ScopedBusContext, OutboxSendContext
    where TDbContext : DbContext
{
    private ISendEndpointProvider? _sendEndpointProvider;
    private IPublishEndpoint? _publishEndpoint;
    private IScopedClientFactory? _clientFactory;

    // What the scope sends to one destination leaves in the order it was written.
    private readonly string _orderKey = NewId.NextGuid().ToString("D");

    public ISendEndpointProvider SendEndpointProvider => _sendEndpointProvider ??= new OutboxSendEndpointProvider(this, bus);

    public IPublishEndpoint PublishEndpoint => _publishEndpoint ??= new PublishEndpoint(new OutboxPublishEndpointProvider(this, bus));

    public IScopedClientFactory ClientFactory =>
        _clientFactory ??= new ScopedClientFactory(new ClientFactory(new ScopedClientFactoryContext(clientFactory, scope)), null);

    public Task AddSend<T>(SendContext<T> context)
        where T : class
    {
        var time = scope.GetService<TimeProvider>() ?? TimeProvider.System;
        scope.GetRequiredService<TDbContext>().Outbox().Add(MassTransitOutboxMessages.From(context, SystemTextJsonMessageSerializer.Instance, time.GetUtcNow(), _orderKey));
        return Task.CompletedTask;
    }

    public object? GetService(Type serviceType) => scope.GetService(serviceType);
}
