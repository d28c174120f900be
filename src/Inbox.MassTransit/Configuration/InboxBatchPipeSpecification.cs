using Inbox.MassTransit.Middleware;
using MassTransit;
using MassTransit.Configuration;

namespace Inbox.MassTransit.Configuration;

/// <summary>Adds the <see cref="InboxBatchFilter{TConsumer, TMessage}"/> to a batch consumer's pipe.</summary>
internal sealed class InboxBatchPipeSpecification<TConsumer, TMessage>(InboxSelection selection, InboxConsumeOptions options) :
    IPipeSpecification<ConsumerConsumeContext<TConsumer, Batch<TMessage>>>
    where TConsumer : class
    where TMessage : class
{
    public void Apply(IPipeBuilder<ConsumerConsumeContext<TConsumer, Batch<TMessage>>> builder)
        => builder.AddFilter(new InboxBatchFilter<TConsumer, TMessage>(selection, options));

    public IEnumerable<ValidationResult> Validate() => InboxValidation.Validate(this, selection);
}
