using System.Diagnostics;
using System.Text.Json;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Inbox.MassTransit.Middleware;

/// <summary>What the filters read from a MassTransit consume context: the scope, the consumer key and the message.</summary>
internal static class InboxConsumeContext
{
    public const string OutcomeTag = "inbox.outcome";

    /// <summary>The message's service scope, created by the consumer factory; the consumer came from it.</summary>
    public static IServiceProvider Scope<TConsumer>(ConsumeContext context)
        => context.TryGetPayload<IServiceScope>(out var scope)
            ? scope.ServiceProvider
            : throw new InvalidOperationException(
                $"The inbox found no service scope for {TypeCache<TConsumer>.ShortName}: register the consumer with x.AddConsumer<{typeof(TConsumer).Name}>() " +
                "inside AddMassTransit and configure it with cfg.ConfigureEndpoints(context) or e.ConfigureConsumer<T>(context), so that it and the inbox share one DbContext.");

    public static string ConsumerKey<TConsumer>(ConsumeContext context, InboxConsumeOptions options)
    {
        var endpoint = EndpointName(context.ReceiveContext.InputAddress);
        return options.ConsumerKey is { } key
            ? key(endpoint, typeof(TConsumer))
            : $"{endpoint}/{TypeCache<TConsumer>.ShortName}";
    }

    /// <summary>The queue name: the last segment of the endpoint's address, without its query.</summary>
    public static string EndpointName(Uri? inputAddress)
    {
        var path = inputAddress?.AbsolutePath.TrimEnd('/') ?? "";
        return Uri.UnescapeDataString(path[(path.LastIndexOf('/') + 1)..]);
    }

    public static InboxMessage Describe<TMessage>(ConsumeContext<TMessage> context, InboxConsumeOptions options)
        where TMessage : class
    {
        if (context.MessageId is not { } messageId)
        {
            throw new InvalidInboxInputException(
                "The message has no MessageId, so the inbox cannot tell a redelivery from a new message; it was not processed. " +
                "MassTransit sets one on every Send and Publish: a producer outside MassTransit must set the envelope's messageId " +
                "(or the transport's message-id property).",
                "messageId");
        }

        var fingerprint = options.ComputeFingerprints
            ? InboxMessage.ComputeFingerprint(JsonSerializer.SerializeToUtf8Bytes(context.Message))
            : null;
        DateTimeOffset? sent = context.SentTime is { } time ? new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc)) : null;
        return new InboxMessage(messageId.ToString("D"), fingerprint, sent);
    }

    public static InvalidInboxInputException Conflict(string consumer, string? messageId) => new(
        $"Message {messageId} was already processed by {consumer} with other content (its fingerprint differs): the ID was reused " +
        "for another message. It was not processed; give the new message an ID of its own and send it again.",
        "messageId");

    /// <summary>Tags MassTransit's consume activity with what the inbox did.</summary>
    public static void Tag(string outcome) => Activity.Current?.SetTag(OutcomeTag, outcome);
}
