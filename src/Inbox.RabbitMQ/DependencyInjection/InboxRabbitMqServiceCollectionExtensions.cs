using Inbox.DependencyInjection;
using Inbox.RabbitMQ;
using Inbox.RabbitMQ.Consuming;
using Inbox.RabbitMQ.DependencyInjection;
using Inbox.RabbitMQ.Health;
using Inbox.RabbitMQ.Telemetry;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers RabbitMQ queues consumed through the inbox, on RabbitMQ.Client, without MassTransit.</summary>
public static class InboxRabbitMqServiceCollectionExtensions
{
    /// <summary>
    /// Registers a hosted RabbitMQ consumer for one queue: each delivery of <typeparamref name="TMessage"/> runs in an
    /// inbox unit of work with <typeparamref name="THandler"/> resolved from the unit's DI scope, and is acknowledged only
    /// after the commit; a message whose ID was processed is acknowledged without running the handler. Each call adds one
    /// consumer; call <c>services.AddInbox&lt;TDbContext&gt;()</c> as well.
    /// </summary>
    /// <typeparam name="TDbContext">The application's DbContext whose inbox records the message IDs.</typeparam>
    /// <typeparam name="TMessage">The deserialized message type.</typeparam>
    /// <typeparam name="THandler">The handler; registered as scoped unless already registered.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the connection, the queue and the other options; validated when the host starts.</param>
    /// <returns>The same service collection.</returns>
    public static IServiceCollection AddInboxRabbitMqConsumer<TDbContext, TMessage, THandler>(
        this IServiceCollection services,
        Action<InboxRabbitMqConsumerOptions<TMessage>> configure)
        where TDbContext : DbContext
        where THandler : class, IRabbitMqInboxHandler<TMessage>
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<InboxRabbitMqConsumerOptions<TMessage>>(AddConsumer<TDbContext, TMessage, THandler>(services)).Configure(configure);
        return services;
    }

    /// <summary>
    /// Registers a hosted RabbitMQ consumer for one queue with its options bound from configuration; see
    /// <see cref="AddInboxRabbitMqConsumer{TDbContext, TMessage, THandler}(IServiceCollection, Action{InboxRabbitMqConsumerOptions{TMessage}})"/>.
    /// The section holds the option names (<c>"Queue": "billing"</c>, <c>"PrefetchCount": 64</c>) and the connection
    /// under <c>"Connection"</c> (<c>"Uri": "amqp://user:password@host:5672/vhost"</c>, or <c>"HostName"</c>, <c>"Port"</c>, ...).
    /// </summary>
    /// <typeparam name="TDbContext">The application's DbContext whose inbox records the message IDs.</typeparam>
    /// <typeparam name="TMessage">The deserialized message type.</typeparam>
    /// <typeparam name="THandler">The handler; registered as scoped unless already registered.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The configuration section of this consumer.</param>
    /// <param name="configure">Sets further options (a deserializer, a message ID selector) after the section is bound.</param>
    /// <returns>The same service collection.</returns>
    public static IServiceCollection AddInboxRabbitMqConsumer<TDbContext, TMessage, THandler>(
        this IServiceCollection services,
        IConfiguration configuration,
        Action<InboxRabbitMqConsumerOptions<TMessage>>? configure = null)
        where TDbContext : DbContext
        where THandler : class, IRabbitMqInboxHandler<TMessage>
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        ConsumerRegistration.Bind(services, AddConsumer<TDbContext, TMessage, THandler>(services), configuration, static (o, headers) => o.MessageIdHeaders = headers, configure);
        return services;
    }

    private static string AddConsumer<TDbContext, TMessage, THandler>(IServiceCollection services)
        where TDbContext : DbContext
        where THandler : class, IRabbitMqInboxHandler<TMessage>
    {
        services.AddMetrics();
        services.TryAddSingleton<InboxRabbitMqTelemetry>();
        services.TryAddSingleton<RabbitMqConsumerStates>();
        return ConsumerRegistration.Add<InboxRabbitMqConsumerOptions<TMessage>, InboxRabbitMqConsumerOptionsValidator<TMessage>, THandler, RabbitMqConsumerService<TDbContext, TMessage, THandler>>(services);
    }
}
