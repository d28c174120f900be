using Inbox.Kafka;
using Inbox.Kafka.Consuming;
using Inbox.Kafka.DependencyInjection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

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

        // Each subscription has named options of its own, so that two subscriptions of one message type do not mix.
        var name = $"{typeof(THandler).FullName}:{Guid.NewGuid():N}";
        services.AddOptions<InboxKafkaConsumerOptions<TMessage>>(name).Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<InboxKafkaConsumerOptions<TMessage>>, InboxKafkaConsumerOptionsValidator<TMessage>>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddScoped<THandler>();
        services.AddSingleton<IHostedService>(sp => ActivatorUtilities.CreateInstance<InboxKafkaConsumerService<TDbContext, TMessage, THandler>>(sp, name));
        return services;
    }
}
