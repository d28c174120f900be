using Inbox.MassTransit;
using Inbox.MassTransit.Configuration;
using Microsoft.EntityFrameworkCore;

namespace MassTransit;

/// <summary>Adds the inbox to MassTransit consumers: <c>cfg.UseInbox(context)</c>.</summary>
public static class InboxConfigurationExtensions
{
    /// <summary>
    /// Processes every consumer's messages exactly once on this bus (every receive endpoint) or on this receive
    /// endpoint: the message ID is recorded in the inbox table in the same transaction as the consumer's writes to
    /// the scoped DbContext, and the message is acknowledged only after the commit. Uses the only inbox registered
    /// with <c>services.AddInbox&lt;TDbContext&gt;()</c>; building the bus fails when there is none or several.
    /// Call it once, before <c>cfg.ConfigureEndpoints(context)</c>. The inbox sits in each consumer's own pipe,
    /// inside <c>UseMessageRetry</c> wherever that is configured, so every attempt is a fresh transaction.
    /// </summary>
    /// <param name="configurator">The bus or receive endpoint configurator.</param>
    /// <param name="context">The registration context given to <c>UsingRabbitMq((context, cfg) =&gt; ...)</c>.</param>
    /// <param name="configure">Sets the options: fingerprints, the consumer key.</param>
    public static void UseInbox(this IConsumePipeConfigurator configurator, IRegistrationContext context, Action<InboxConsumeOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        Connect(configurator, new InboxSelection(null, context), configure);
    }

    /// <summary>
    /// Processes every consumer's messages exactly once with the inbox of <typeparamref name="TDbContext"/>, for
    /// applications that register more than one; see <see cref="UseInbox(IConsumePipeConfigurator, IRegistrationContext, Action{InboxConsumeOptions})"/>.
    /// Building the bus fails when <c>services.AddInbox&lt;TDbContext&gt;()</c> was not called.
    /// </summary>
    /// <typeparam name="TDbContext">The DbContext whose inbox records the messages and which the consumers write to.</typeparam>
    /// <param name="configurator">The bus or receive endpoint configurator.</param>
    /// <param name="context">The registration context given to <c>UsingRabbitMq((context, cfg) =&gt; ...)</c>.</param>
    /// <param name="configure">Sets the options: fingerprints, the consumer key.</param>
    public static void UseInbox<TDbContext>(this IConsumePipeConfigurator configurator, IRegistrationContext context, Action<InboxConsumeOptions>? configure = null)
        where TDbContext : DbContext
    {
        ArgumentNullException.ThrowIfNull(context);
        Connect(configurator, new InboxSelection(typeof(TDbContext), context), configure);
    }

    /// <summary>
    /// Processes every consumer's messages exactly once, finding the inbox in each message's service scope; see
    /// <see cref="UseInbox(IConsumePipeConfigurator, IRegistrationContext, Action{InboxConsumeOptions})"/>. Without the
    /// registration context a missing or ambiguous inbox is found on the first message (which then goes to the error
    /// queue) instead of when the bus is built: prefer <c>UseInbox(context)</c> where the context is at hand.
    /// </summary>
    /// <param name="configurator">The bus or receive endpoint configurator.</param>
    /// <param name="configure">Sets the options: fingerprints, the consumer key.</param>
    public static void UseInbox(this IConsumePipeConfigurator configurator, Action<InboxConsumeOptions>? configure = null)
        => Connect(configurator, new InboxSelection(null, null), configure);

    private static void Connect(IConsumePipeConfigurator configurator, InboxSelection selection, Action<InboxConsumeOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(configurator);
        var options = new InboxConsumeOptions();
        configure?.Invoke(options);
        configurator.ConnectConsumerConfigurationObserver(new InboxConsumerConfigurationObserver(selection, options));
    }
}
