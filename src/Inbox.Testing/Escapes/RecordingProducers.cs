using System.Collections;
using System.Reflection;
using System.Runtime.ExceptionServices;
using System.Text;
using Microsoft.Extensions.DependencyInjection;

namespace Inbox.Testing.Escapes;

/// <summary>
/// Records what a handler produces with a Kafka <c>IProducer&lt;TKey, TValue&gt;</c> resolved from the container: a
/// record produced from a handler goes out although the unit rolls back. Each registration of the producer is replaced
/// by a proxy that records the topic and the record's message ID header, then calls the application's producer.
/// </summary>
/// <remarks>
/// Written over reflection and <see cref="DispatchProxy"/> rather than against Confluent.Kafka, so that the kit does not
/// bring Kafka's client and native library to applications that do not use it.
/// </remarks>
internal static class RecordingProducers
{
    private const string ProducerType = "Confluent.Kafka.IProducer`2";


    /// <summary>Replaces every registration of a Kafka producer in <paramref name="services"/> with a recording proxy.</summary>
    public static void Wrap(IServiceCollection services)
    {
        for (var i = 0; i < services.Count; i++)
        {
            var descriptor = services[i];
            if (descriptor.IsKeyedService || !IsProducer(descriptor.ServiceType))
            {
                continue;
            }

            // An instance the application registered is the application's to dispose, not the scenario's container's.
            var owned = descriptor.ImplementationInstance is null;
            services[i] = ServiceDescriptor.Describe(
                descriptor.ServiceType,
                provider => ProducerProxy.Create(descriptor.ServiceType, Resolve(provider, descriptor), provider.GetRequiredService<EffectRecorder>(), owned),
                descriptor.Lifetime);
        }
    }

    private static bool IsProducer(Type type)
        => type.IsInterface && type.IsConstructedGenericType && type.GetGenericTypeDefinition().FullName == ProducerType;

    private static object Resolve(IServiceProvider provider, ServiceDescriptor descriptor)
        => descriptor.ImplementationInstance
            ?? descriptor.ImplementationFactory?.Invoke(provider)
            ?? ActivatorUtilities.CreateInstance(provider, descriptor.ImplementationType!);

    private static string Topic(object? destination)
        => destination as string ?? destination?.GetType().GetProperty("Topic")?.GetValue(destination) as string ?? "?";

    private static string? MessageId(object? message)
    {
        if (message?.GetType().GetProperty("Headers")?.GetValue(message) is not IEnumerable headers)
        {
            return null;
        }

        foreach (var header in headers)
        {
            var type = header.GetType();
            if (type.GetProperty("Key")?.GetValue(header) is string key && MessageIdHeaders.Defaults.Contains(key, StringComparer.Ordinal)
                && type.GetMethod("GetValueBytes")?.Invoke(header, null) is byte[] value)
            {
                return Encoding.UTF8.GetString(value);
            }
        }

        return null;
    }

    /// <summary>The producer as the handler sees it: records Produce and ProduceAsync, passes every call on.</summary>
    internal class ProducerProxy : DispatchProxy
    {
        private object _target = null!;
        private EffectRecorder _recorder = null!;
        private bool _owned;

        public static object Create(Type producerType, object target, EffectRecorder recorder, bool owned)
        {
            var proxy = DispatchProxy.Create(producerType, typeof(ProducerProxy));
            var self = (ProducerProxy)proxy;
            self._target = target;
            self._recorder = recorder;
            self._owned = owned;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            ArgumentNullException.ThrowIfNull(targetMethod);
            if (targetMethod.Name is "Produce" or "ProduceAsync" && args is [var destination, var message, ..])
            {
                _recorder.RecordMessage("Produce", Topic(destination), MessageId(message));
            }

            if (targetMethod.Name == nameof(IDisposable.Dispose) && !_owned)
            {
                return null;
            }

            try
            {
                return targetMethod.Invoke(_target, args);
            }
            catch (TargetInvocationException exception) when (exception.InnerException is not null)
            {
                ExceptionDispatchInfo.Throw(exception.InnerException);
                throw;
            }
        }
    }
}
