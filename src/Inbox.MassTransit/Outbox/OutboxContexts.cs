using MassTransit;
using MassTransit.Context;
using MassTransit.DependencyInjection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Inbox.MassTransit.Outbox;

/// <summary>Runs a consumer with what it publishes, sends or responds going to the unit's outbox.</summary>
internal static class OutboxContexts
{
    /// <summary>
    /// Sends the consumer a context whose <c>Publish</c>, <c>Send</c> and <c>RespondAsync</c> write to <paramref name="db"/>'s
    /// outbox, and makes it the scope's consume context meanwhile, so that services of the scope with
    /// <c>IPublishEndpoint</c> or <c>ISendEndpointProvider</c> injected write there too.
    /// </summary>
    public static async Task SendAsync<TConsumer, TMessage>(
        IPipe<ConsumerConsumeContext<TConsumer, TMessage>> next, ConsumerConsumeContext<TConsumer, TMessage> context, DbContext db, IServiceProvider scope)
        where TConsumer : class
        where TMessage : class
    {
        var outbox = new ConsumerConsumeContextProxy<TConsumer, TMessage>(
            new InboxOutboxConsumeContext<TMessage>(context, db, scope, scope.GetService<TimeProvider>() ?? TimeProvider.System),
            context.Consumer);
        var global = scope.GetService<IScopedConsumeContextProvider>();
        var bus = scope.GetService<Bind<IBus, IScopedConsumeContextProvider>>()?.Value;
        using var pushed = global?.PushContext(outbox);
        using var pushedForBus = bus is not null && !ReferenceEquals(bus, global) ? bus.PushContext(outbox) : null;
        await next.Send(outbox).ConfigureAwait(false);
    }
}
