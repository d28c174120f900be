using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Inbox.AspNetCore.Http;

/// <summary>
/// Reads the <c>Idempotency-Key</c> request header: the IETF draft's structured-field string (<c>"abc"</c>) or a bare
/// token. One header line, 1 to 255 visible ASCII characters. Hand-written: ASP.NET Core has no structured-field
/// parser, and only the sf-string form is needed.
/// </summary>
internal static class IdempotencyKeyHeader
{
    public const string Name = "Idempotency-Key";
    public const int MaxLength = Storage.IdempotencyRecord.MaxKeyLength;

    /// <summary>Returns the key, or null with the reason it is missing or unusable (absent, several values, bad characters or length).</summary>
    public static string? Read(HttpRequest request, out string? problem)
    {
        var values = request.Headers[Name];
        problem = null;
        if (StringValues.IsNullOrEmpty(values))
        {
            problem = $"This endpoint requires an {Name} header: send a unique value (a UUID, say) and the same value when you retry the request.";
            return null;
        }

        if (values.Count > 1)
        {
            problem = $"Send one {Name} header, not {values.Count}.";
            return null;
        }

        var value = values[0]!.Trim();
        if (value.Length > 0 && value[0] != '"' && value.Contains(',', StringComparison.Ordinal))
        {
            // Several header lines folded into one by a proxy or client ("a, b"); a comma belongs in a quoted key only.
            problem = $"Send one {Name} value, not a list; quote a key that contains a comma (\"a,b\").";
            return null;
        }

        var key = Unquote(value);
        if (key is null || key.Length == 0 || key.Length > MaxLength || key.Any(c => c is < ' ' or > '~'))
        {
            problem = $"The {Name} header must be 1 to {MaxLength} visible ASCII characters, bare or as a quoted string (\"...\").";
            return null;
        }

        return key;
    }

    private static string? Unquote(string value)
    {
        if (value.Length == 0 || value[0] != '"')
        {
            return value;
        }

        if (value.Length < 2 || value[^1] != '"')
        {
            return null;
        }

        var inner = value[1..^1];
        var result = new System.Text.StringBuilder(inner.Length);
        for (var i = 0; i < inner.Length; i++)
        {
            var c = inner[i];
            if (c == '\\')
            {
                // An sf-string escapes only DQUOTE and backslash.
                if (i + 1 >= inner.Length || inner[i + 1] is not ('"' or '\\'))
                {
                    return null;
                }

                c = inner[++i];
            }
            else if (c == '"')
            {
                return null;
            }

            result.Append(c);
        }

        return result.ToString();
    }
}
