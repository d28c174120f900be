using System.Diagnostics;
using System.Text;
using System.Text.Json;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Inbox.MassTransit.Middleware;

/// <summary>What the filters read from a MassTransit consume context: the scope and the message's description.</summary>
internal static class InboxConsumeContext
{
    public const string OutcomeTag = "inbox.outcome";

    // RabbitMQ's header adapter exposes the message_id property under this name, as sent (a GUID or any string).
    private const string TransportMessageIdHeader = "MessageId";

    // The content types of MassTransit's own envelopes, whose sentTime field is what the producer set (null when it
    // set none). Raw messages (application/json and others) have no such field: MassTransit 8.5 then derives SentTime
    // from the MessageId's bytes, which for a random GUID gives dates such as 2001-01-01.
    private const string EnvelopeMediaTypePrefix = "application/vnd.masstransit";

    /// <summary>The message's service scope, created by the consumer factory; the consumer came from it.</summary>
    public static IServiceProvider Scope<TConsumer>(ConsumeContext context)
        => context.TryGetPayload<IServiceScope>(out var scope)
            ? scope.ServiceProvider
            : throw new InvalidOperationException(
                $"The inbox found no service scope for {TypeCache<TConsumer>.ShortName}: register the consumer with x.AddConsumer<{typeof(TConsumer).Name}>() " +
                "inside AddMassTransit and configure it with cfg.ConfigureEndpoints(context) or e.ConfigureConsumer<T>(context), so that it and the inbox share one DbContext.");

    public static InboxMessage Describe<TMessage>(ConsumeContext<TMessage> context, InboxConsumeOptions options)
        where TMessage : class
    {
        var messageId = FindMessageId(context, options) ?? throw new InvalidInboxInputException(
            "The message has no usable MessageId, so the inbox cannot tell a redelivery from a new message; it was not processed. " +
            "MassTransit sets one on every Send and Publish. A producer outside MassTransit must set the transport's message ID " +
            "(RabbitMQ's message_id property) or the envelope's messageId, or name the header or field that carries it with " +
            "cfg.UseInbox(context, o => o.MessageIdHeaders = [\"x-message-id\"]) or o.MessageIdSelector.",
            "messageId");

        var fingerprint = options.ComputeFingerprints
            ? InboxMessage.ComputeFingerprint(JsonSerializer.SerializeToUtf8Bytes(context.Message))
            : null;
        return new InboxMessage(messageId, fingerprint, SentTime(context)) { Redelivered = context.ReceiveContext.Redelivered };
    }

    /// <summary>Tags MassTransit's consume activity with what the inbox did.</summary>
    public static void Tag(string outcome) => Activity.Current?.SetTag(OutcomeTag, outcome);

    private static string? FindMessageId<TMessage>(ConsumeContext<TMessage> context, InboxConsumeOptions options)
        where TMessage : class
    {
        foreach (var name in options.MessageIdHeaders)
        {
            if ((Header(context.Headers, name) ?? Header(context.ReceiveContext.TransportHeaders, name)) is { Length: > 0 } fromHeader)
            {
                return fromHeader;
            }
        }

        if (options.MessageIdSelector?.Invoke(context.Message) is { Length: > 0 } selected)
        {
            return selected;
        }

        try
        {
            if (context.MessageId is { } guid)
            {
                return guid.ToString("D");
            }
        }
        catch (FormatException)
        {
            // An envelope whose messageId is not a GUID: MassTransit cannot read it; the transport's own ID may do.
        }

        return Header(context.ReceiveContext.TransportHeaders, TransportMessageIdHeader);
    }

    private static string? Header(Headers headers, string name)
    {
        if (headers.TryGetHeader(name, out var exact))
        {
            return AsString(exact);
        }

        foreach (var header in headers.GetAll())
        {
            if (string.Equals(header.Key, name, StringComparison.OrdinalIgnoreCase))
            {
                return AsString(header.Value);
            }
        }

        return null;
    }

    private static string? AsString(object? value) => value switch
    {
        null => null,
        string text => text,
        byte[] bytes => Encoding.UTF8.GetString(bytes),
        Guid guid => guid.ToString("D"),
        IFormattable formattable => formattable.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };

    /// <summary>Only a sent time the producer set: a MassTransit envelope's sentTime. A raw message's is derived, so none.</summary>
    private static DateTimeOffset? SentTime(ConsumeContext context)
    {
        var mediaType = context.ReceiveContext.ContentType?.MediaType;
        if (mediaType is null || !mediaType.StartsWith(EnvelopeMediaTypePrefix, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        return context.SentTime is { } time ? new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc)) : null;
    }
}
