using MassTransit;

namespace Inbox.MassTransit.Outbox;

/// <summary>
/// The <see cref="IPublishEndpoint"/> and <see cref="ISendEndpointProvider"/> a consumer's scope hands out (to a
/// service with <c>IPublishEndpoint</c> injected, say). MassTransit resolves them when the consumer is built, before
/// the inbox filter runs, so they cannot be the outbox's context itself; each call goes to the scope's consume context
/// as it is at that moment: the outbox's while the inbox runs the consumer, the delivered message's otherwise.
/// Hand-written because MassTransit's scoped endpoints bind to one context when they are created.
/// </summary>
internal sealed class CurrentConsumeContextEndpoint(Func<ConsumeContext> current) : IPublishEndpoint, ISendEndpointProvider
{
    public ConnectHandle ConnectPublishObserver(IPublishObserver observer) => current().ConnectPublishObserver(observer);

    public ConnectHandle ConnectSendObserver(ISendObserver observer) => current().ConnectSendObserver(observer);

    public Task<ISendEndpoint> GetSendEndpoint(Uri address) => current().GetSendEndpoint(address);

    public Task Publish<T>(T message, CancellationToken cancellationToken = default)
        where T : class => current().Publish(message, cancellationToken);

    public Task Publish<T>(T message, IPipe<PublishContext<T>> publishPipe, CancellationToken cancellationToken = default)
        where T : class => current().Publish(message, publishPipe, cancellationToken);

    public Task Publish<T>(T message, IPipe<PublishContext> publishPipe, CancellationToken cancellationToken = default)
        where T : class => current().Publish(message, publishPipe, cancellationToken);

    public Task Publish(object message, CancellationToken cancellationToken = default) => current().Publish(message, cancellationToken);

    public Task Publish(object message, IPipe<PublishContext> publishPipe, CancellationToken cancellationToken = default)
        => current().Publish(message, publishPipe, cancellationToken);

    public Task Publish(object message, Type messageType, CancellationToken cancellationToken = default)
        => current().Publish(message, messageType, cancellationToken);

    public Task Publish(object message, Type messageType, IPipe<PublishContext> publishPipe, CancellationToken cancellationToken = default)
        => current().Publish(message, messageType, publishPipe, cancellationToken);

    public Task Publish<T>(object values, CancellationToken cancellationToken = default)
        where T : class => current().Publish<T>(values, cancellationToken);

    public Task Publish<T>(object values, IPipe<PublishContext<T>> publishPipe, CancellationToken cancellationToken = default)
        where T : class => current().Publish(values, publishPipe, cancellationToken);

    public Task Publish<T>(object values, IPipe<PublishContext> publishPipe, CancellationToken cancellationToken = default)
        where T : class => current().Publish<T>(values, publishPipe, cancellationToken);
}
