namespace Inbox.Outbox.Writing;

/// <summary>Checks an outgoing message when it is written, so that a message no transport could send is never saved.</summary>
internal static class OutboxMessageValidation
{
    public const int MaxMessageIdLength = 256;
    public const int MaxDestinationLength = 1024;
    public const int MaxKeyLength = 4096;
    public const int MaxHeaderNameLength = 255;
    public const int MaxHeaderValueLength = 64 * 1024;

    public static void Validate(OutboxMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        Text(message.Transport, "transport", MaxDestinationLength, allowEmpty: false);
        Text(message.Destination, "destination", MaxDestinationLength, allowEmpty: false);
        if (message.MessageId is not null)
        {
            Text(message.MessageId, "messageId", MaxMessageIdLength, allowEmpty: false);
        }

        if (message.PartitionKey is { Length: > MaxKeyLength })
        {
            throw new InvalidOutboxMessageException($"The outgoing message's key is {message.PartitionKey.Length} characters long; the limit is {MaxKeyLength}.", "partitionKey");
        }

        foreach (var (name, value) in message.Headers ?? new Dictionary<string, string>())
        {
            Text(name, "header name", MaxHeaderNameLength, allowEmpty: false);
            if (value is null || value.Length > MaxHeaderValueLength)
            {
                throw new InvalidOutboxMessageException(
                    $"The outgoing message's header '{name}' has {(value is null ? "no value" : $"a value of {value.Length} characters; the limit is {MaxHeaderValueLength}")}.",
                    "headers");
            }
        }
    }

    private static void Text(string? value, string what, int maxLength, bool allowEmpty)
    {
        var problem = value switch
        {
            null => "is missing (null)",
            "" when !allowEmpty => "is empty",
            _ when string.IsNullOrWhiteSpace(value) && !allowEmpty => "is only white space",
            _ when value.Length > maxLength => $"is {value.Length} characters long; the limit is {maxLength}",
            _ when value.AsSpan().IndexOfAnyInRange('\0', '\u001f') >= 0 => "contains a control character",
            _ => null,
        };
        if (problem is not null)
        {
            throw new InvalidOutboxMessageException($"The outgoing message's {what} {problem}.", what);
        }
    }
}
