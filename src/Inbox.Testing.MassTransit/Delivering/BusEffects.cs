using System.Collections.Concurrent;
using Inbox.Testing.Escapes;
using MassTransit;

namespace Inbox.Testing.MassTransit.Delivering;

/// <summary>
/// Records what consumers publish or send on the bus itself while the scenario delivers: with the outbox on
/// (<c>x.AddInboxOutbox</c>) a consumer's <c>context.Publish</c> goes to the outbox table and nothing reaches the bus
/// before the dispatcher runs, which the scenario never starts; so whatever reaches it left outside the unit of work
/// (an injected <c>IBus</c>, or no outbox). The scenario's own publishes and MassTransit's fault messages are not effects.
/// </summary>
internal sealed class BusEffects(EffectRecorder recorder, Guid scenarioMessageId, ConsumeSpans spans) : IPublishObserver, ISendObserver
{
    // The messages being published: a publish reaches the transport as sends of the same context (MassTransit's send
    // contexts are publish contexts too, so the type cannot tell them apart), recorded once, as the publish.
    private readonly ConcurrentDictionary<Guid, byte> _publishing = new();

    public Task PrePublish<T>(PublishContext<T> context)
        where T : class
    {
        if (context.MessageId is { } id)
        {
            _publishing.TryAdd(id, 0);
        }

        return Task.CompletedTask;
    }

    public Task PostPublish<T>(PublishContext<T> context)
        where T : class
    {
        if (context.Message is Fault fault && fault.FaultedMessageId == scenarioMessageId)
        {
            spans.FaultPublished(string.Join("; ", fault.Exceptions.Select(e => $"{e.ExceptionType}: {e.Message}")));
        }

        Record("Publish", typeof(T).Name, context);
        return Task.CompletedTask;
    }

    public Task PublishFault<T>(PublishContext<T> context, Exception exception)
        where T : class => Task.CompletedTask;

    public Task PreSend<T>(SendContext<T> context)
        where T : class => Task.CompletedTask;

    public Task PostSend<T>(SendContext<T> context)
        where T : class
    {
        if (context.MessageId is not { } id || !_publishing.ContainsKey(id))
        {
            Record("Send", context.DestinationAddress?.ToString() ?? typeof(T).Name, context);
        }

        return Task.CompletedTask;
    }

    public Task SendFault<T>(SendContext<T> context, Exception exception)
        where T : class => Task.CompletedTask;

    private void Record<T>(string what, string target, SendContext<T> context)
        where T : class
    {
        if (context.MessageId == scenarioMessageId || typeof(T).Assembly == typeof(Fault<>).Assembly)
        {
            return;
        }

        recorder.RecordMessage(what, target, context.MessageId?.ToString());
    }
}
