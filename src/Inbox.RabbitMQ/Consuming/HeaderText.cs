using System.Globalization;
using System.Text;

namespace Inbox.RabbitMQ.Consuming;

/// <summary>An AMQP header value as text: long strings arrive as bytes, numbers as numbers.</summary>
internal static class HeaderText
{
    public static string? Of(object? value) => value switch
    {
        null => null,
        byte[] bytes => Encoding.UTF8.GetString(bytes),
        string text => text,
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        var other => other.ToString(),
    };
}
