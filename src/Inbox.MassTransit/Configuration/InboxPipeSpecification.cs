using Inbox.MassTransit.Middleware;
using MassTransit;
using MassTransit.Configuration;

namespace Inbox.MassTransit.Configuration;

/// <summary>Adds the <see cref="InboxFilter{TConsumer, TMessage}"/> to one consumer's pipe for one message type.</summary>
internal sealed class InboxPipeSpecification<TConsumer, TMessage>(InboxSelection selection, InboxConsumeOptions options) :
    IPipeSpecification<ConsumerConsumeContext<TConsumer, TMessage>>
    where TConsumer : class
    where TMessage : class
{
    public void Apply(IPipeBuilder<ConsumerConsumeContext<TConsumer, TMessage>> builder)
        => builder.AddFilter(new InboxFilter<TConsumer, TMessage>(selection, options));

    public IEnumerable<ValidationResult> Validate() => InboxValidation.Validate(this, selection);
}
