using MassTransit;
using MassTransit.Middleware;
using MassTransit.Middleware.Outbox;
using Microsoft.EntityFrameworkCore;

namespace Inbox.MassTransit.Outbox;

/// <summary>
/// The consume context an inboxed consumer sees when the outbox is on: MassTransit's own outbox context, whose
/// <c>Publish</c>, <c>Send</c> and <c>RespondAsync</c> build the message as usual (topology, routing, the consumed
/// message as initiator) and hand it to <see cref="AddSend{T}"/>, which writes it to the unit's outbox instead of the
/// broker. It commits with the inbox record and the consumer's writes; a rolled-back attempt leaves nothing.
/// MassTransit's own inbox state (consumed, delivered, sequence numbers) is Inbox's table here, so those members are inert.
/// </summary>
internal sealed class InboxOutboxConsumeContext<TMessage>(ConsumeContext<TMessage> context, DbContext db, IServiceProvider scope, TimeProvider time)
    : OutboxConsumeContextProxy<TMessage>(context, new OutboxConsumeOptions(), scope)
    where TMessage : class
{
    public override bool ContinueProcessing { get; set; } = true;

    public override bool IsMessageConsumed => false;

    public override bool IsOutboxDelivered => false;

    public override int ReceiveCount => 1;

    public override long? LastSequenceNumber => null;

    public override Task SetConsumed() => Task.CompletedTask;

    public override Task SetDelivered() => Task.CompletedTask;

    public override Task<List<OutboxMessageContext>> LoadOutboxMessages() => Task.FromResult(new List<OutboxMessageContext>());

    public override Task NotifyOutboxMessageDelivered(OutboxMessageContext message) => Task.CompletedTask;

    public override Task RemoveOutboxMessages() => Task.CompletedTask;

    public override Task AddSend<T>(SendContext<T> context)
    {
        db.Outbox().Add(MassTransitOutboxMessages.From(context, SerializerContext, time.GetUtcNow()));
        return Task.CompletedTask;
    }
}
