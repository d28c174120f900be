using Confluent.Kafka;
using Inbox.DependencyInjection;
using Inbox.Kafka;
using Inbox.Kafka.Consuming;
using Inbox.Kafka.DependencyInjection;
using Inbox.Kafka.Health;
using Inbox.Kafka.Telemetry;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Kafka subscriptions processed through the inbox.</summary>
public static class InboxKafkaServiceCollectionExtensions
{
    /// <summary>
    /// Registers a hosted Kafka consumer for one subscription: it consumes <typeparamref name="TMessage"/> from the
    /// configured topics, processes each partition's messages in batches, one inbox transaction per batch, with
    /// <typeparamref name="THandler"/> resolved from the transaction's DI scope, and stores each offset only after
    /// the commit. Each call adds one subscription; call <c>services.AddInbox&lt;TDbContext&gt;()</c> as well.
    /// </summary>
    /// <typeparam name="TDbContext">The application's DbContext whose inbox records the message IDs.</typeparam>
    /// <typeparam name="TMessage">The deserialized message type.</typeparam>
    /// <typeparam name="THandler">The handler; registered as scoped unless already registered.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the topics, Confluent's consumer configuration and the other options; validated when the host starts.</param>
    /// <returns>The same service collection.</returns>
    public static IServiceCollection AddInboxKafkaConsumer<TDbContext, TMessage, THandler>(
        this IServiceCollection services,
        Action<InboxKafkaConsumerOptions<TMessage>> configure)
        where TDbContext : DbContext
        where THandler : class, IInboxHandler<TMessage>
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<InboxKafkaConsumerOptions<TMessage>>(AddSubscription<TDbContext, TMessage, THandler>(services)).Configure(configure);
        return services;
    }

    /// <summary>
    /// Registers a hosted Kafka consumer for one subscription with its options bound from configuration; see
    /// <see cref="AddInboxKafkaConsumer{TDbContext, TMessage, THandler}(IServiceCollection, Action{InboxKafkaConsumerOptions{TMessage}})"/>.
    /// The section holds the option names (<c>"Topics": ["orders"]</c>, <c>"BatchSize": 200</c>) and Confluent's
    /// configuration under <c>"Consumer"</c> and <c>"Producer"</c>, by property name (<c>"BootstrapServers"</c>,
    /// <c>"GroupId"</c>) or by librdkafka name (<c>"bootstrap.servers"</c>, <c>"auto.offset.reset"</c>).
    /// </summary>
    /// <typeparam name="TDbContext">The application's DbContext whose inbox records the message IDs.</typeparam>
    /// <typeparam name="TMessage">The deserialized message type.</typeparam>
    /// <typeparam name="THandler">The handler; registered as scoped unless already registered.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The configuration section of this subscription.</param>
    /// <param name="configure">Sets further options (a deserializer, a message ID selector) after the section is bound.</param>
    /// <returns>The same service collection.</returns>
    public static IServiceCollection AddInboxKafkaConsumer<TDbContext, TMessage, THandler>(
        this IServiceCollection services,
        IConfiguration configuration,
        Action<InboxKafkaConsumerOptions<TMessage>>? configure = null)
        where TDbContext : DbContext
        where THandler : class, IInboxHandler<TMessage>
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var builder = ConsumerRegistration.Bind<InboxKafkaConsumerOptions<TMessage>>(
            services,
            AddSubscription<TDbContext, TMessage, THandler>(services),
            configuration,
            static (o, headers) => o.MessageIdHeaders = headers,
            o =>
            {
                CopyLibrdkafkaKeys(configuration.GetSection("Consumer"), o.Consumer);
                if (configuration.GetSection("Producer").Exists())
                {
                    o.Producer ??= new ProducerConfig();
                    CopyLibrdkafkaKeys(configuration.GetSection("Producer"), o.Producer);
                }
            });
        if (configure is not null)
        {
            builder.Configure(configure);
        }

        return services;
    }

    /// <summary>The services every subscription and the health check share; safe to call more than once.</summary>
    internal static IServiceCollection AddInboxKafkaCore(this IServiceCollection services)
    {
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<InboxKafkaTelemetry>();
        services.TryAddSingleton<KafkaConsumerStates>();
        return services;
    }

    private static string AddSubscription<TDbContext, TMessage, THandler>(IServiceCollection services)
        where TDbContext : DbContext
        where THandler : class, IInboxHandler<TMessage>
    {
        services.AddInboxKafkaCore();
        return ConsumerRegistration.Add<InboxKafkaConsumerOptions<TMessage>, InboxKafkaConsumerOptionsValidator<TMessage>, THandler, InboxKafkaConsumerService<TDbContext, TMessage, THandler>>(services);
    }

    // Confluent's configuration classes are dictionaries of librdkafka names behind typed properties. The binder fills
    // the properties; keys spelt the librdkafka way ("auto.offset.reset") have no property, so they are copied as they are.
    private static void CopyLibrdkafkaKeys(IConfigurationSection section, ClientConfig config)
    {
        foreach (var child in section.GetChildren())
        {
            if (child.Key.Contains('.', StringComparison.Ordinal) && child.Value is { } value)
            {
                config.Set(child.Key, value);
            }
        }
    }
}
