using System.Text.Json;
using Inbox.AspNetCore.Storage;
using Microsoft.AspNetCore.Http;

namespace Inbox.AspNetCore.Http;

/// <summary>What of a response is kept with its key (status, the replayed headers, the body) and how it is played back.</summary>
internal static class StoredResponse
{
    public const string ReplayedHeader = "Idempotent-Replayed";

    /// <summary>Copies the response into the record about to be completed.</summary>
    public static void Capture(HttpResponse response, ReadOnlyMemory<byte> body, IdempotencyKeyOptions options, IdempotencyRecord record)
    {
        var headers = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in options.ReplayedHeaders)
        {
            if (response.Headers.TryGetValue(name, out var values) && values.Count > 0)
            {
                headers[name] = values.ToArray()!;
            }
        }

        record.StatusCode = response.StatusCode;
        record.Headers = JsonSerializer.Serialize(headers);
        record.BodyOmitted = body.Length > options.MaxStoredBodySize;
        record.Body = record.BodyOmitted ? null : body.ToArray();
    }

    /// <summary>Writes a stored response, marked <c>Idempotent-Replayed: true</c>.</summary>
    public static async Task ReplayAsync(HttpResponse response, IdempotencyRecord record, CancellationToken cancellationToken)
    {
        response.StatusCode = record.StatusCode;
        if (record.Headers is { } json && JsonSerializer.Deserialize<Dictionary<string, string[]>>(json) is { } headers)
        {
            foreach (var (name, values) in headers)
            {
                response.Headers[name] = values;
            }
        }

        response.Headers[ReplayedHeader] = "true";
        if (record.Body is { Length: > 0 } body)
        {
            response.ContentLength = body.Length;
            await response.Body.WriteAsync(body, cancellationToken).ConfigureAwait(false);
        }
    }
}
