namespace Inbox.AspNetCore.Storage;

/// <summary>
/// One key of one scope, with the response it produced. Inserted when the request starts (the primary key is the lock
/// against a concurrent request with the same key) and completed with the response in the same transaction.
/// </summary>
internal sealed class IdempotencyRecord
{
    public const int MaxKeyLength = 255;
    public const int MaxScopeLength = 512;

    public string Scope { get; set; } = "";

    public string Key { get; set; } = "";

    /// <summary>SHA-256 of the method, path, query and body: a second request with other content is a mismatch.</summary>
    public byte[] Fingerprint { get; set; } = [];

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>0 while the request runs (never visible to others: it commits only with the response).</summary>
    public int StatusCode { get; set; }

    /// <summary>The replayed headers as a JSON object of name to values.</summary>
    public string? Headers { get; set; }

    public byte[]? Body { get; set; }

    /// <summary>The body was larger than <see cref="IdempotencyKeyOptions.MaxStoredBodySize"/> and is not stored.</summary>
    public bool BodyOmitted { get; set; }
}
