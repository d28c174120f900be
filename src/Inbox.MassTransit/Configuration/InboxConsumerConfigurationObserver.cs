using System.Reflection;
using MassTransit;

namespace Inbox.MassTransit.Configuration;

/// <summary>
/// Adds the inbox to every consumer configured on the bus or endpoint it observes, in the consumer's own pipe:
/// after the consumer factory (which creates the scope) and so inside any retry, which MassTransit places before it.
/// </summary>
internal sealed class InboxConsumerConfigurationObserver(InboxSelection selection, InboxConsumeOptions options) : IConsumerConfigurationObserver
{
    private static readonly MethodInfo ConfigureBatchMethod =
        typeof(InboxConsumerConfigurationObserver).GetMethod(nameof(ConfigureBatch), BindingFlags.NonPublic | BindingFlags.Instance)!;

    public void ConsumerConfigured<TConsumer>(IConsumerConfigurator<TConsumer> configurator)
        where TConsumer : class
    {
    }

    public void ConsumerMessageConfigured<TConsumer, TMessage>(IConsumerMessageConfigurator<TConsumer, TMessage> configurator)
        where TConsumer : class
        where TMessage : class
    {
        if (typeof(TMessage).IsGenericType && typeof(TMessage).GetGenericTypeDefinition() == typeof(Batch<>))
        {
            ConfigureBatchMethod.MakeGenericMethod(typeof(TConsumer), typeof(TMessage).GetGenericArguments()[0]).Invoke(this, [configurator]);
            return;
        }

        configurator.AddPipeSpecification(new InboxPipeSpecification<TConsumer, TMessage>(selection, options));
    }

    private void ConfigureBatch<TConsumer, TMessage>(IConsumerMessageConfigurator<TConsumer, Batch<TMessage>> configurator)
        where TConsumer : class
        where TMessage : class
        => configurator.AddPipeSpecification(new InboxBatchPipeSpecification<TConsumer, TMessage>(selection, options));
}
