using MassTransit;
using MassTransit.Context;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Inbox.MassTransit.Outbox;

/// <summary>Wraps a consumer's context so that what it publishes, sends or responds goes to the unit's outbox.</summary>
internal static class OutboxContexts
{
    public static ConsumerConsumeContext<TConsumer, TMessage> Capture<TConsumer, TMessage>(
        ConsumerConsumeContext<TConsumer, TMessage> context, DbContext db, IServiceProvider scope)
        where TConsumer : class
        where TMessage : class
        => new ConsumerConsumeContextProxy<TConsumer, TMessage>(
            new InboxOutboxConsumeContext<TMessage>(context, db, scope, scope.GetService<TimeProvider>() ?? TimeProvider.System),
            context.Consumer);
}
