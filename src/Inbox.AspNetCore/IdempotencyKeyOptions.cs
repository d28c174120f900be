using System.ComponentModel;
using Microsoft.AspNetCore.Http;

namespace Inbox.AspNetCore;

/// <summary>How endpoints that require an <c>Idempotency-Key</c> behave. Validated at start-up.</summary>
public sealed class IdempotencyKeyOptions
{
    /// <summary>
    /// Gets or sets how long a key is remembered: within it, the same key replays the stored response; after it, the key
    /// is a new request and the inbox's purger deletes it. The same idea as <c>InboxOptions.DeduplicationWindow</c>.
    /// </summary>
    /// <value>24 hours. Positive.</value>
    public TimeSpan DeduplicationWindow { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Gets or sets the deduplication window under its former name: use <see cref="DeduplicationWindow"/>.</summary>
    [Obsolete("Use DeduplicationWindow, the name InboxOptions gives the same idea.")]
    [EditorBrowsable(EditorBrowsableState.Never)]
    public TimeSpan KeyWindow
    {
        get => DeduplicationWindow;
        set => DeduplicationWindow = value;
    }

    /// <summary>
    /// Gets or sets how long a request waits for another request with the same key that is still running, to replay its
    /// response when it completes in time. Zero answers 409 Conflict with <c>Retry-After</c> at once.
    /// </summary>
    /// <value>
    /// Zero. At most 30 seconds. SQLite has one writer at a time: there requests that require a key run one after
    /// another in the process, so a second request with the same key waits for the first and then replays it.
    /// </value>
    public TimeSpan InFlightWait { get; set; } = TimeSpan.Zero;

    /// <summary>Gets or sets the largest response body stored for replay; a larger one is sent, and replayed with its status and headers but an empty body.</summary>
    /// <value>1 MiB. Between 0 and 64 MiB.</value>
    public int MaxStoredBodySize { get; set; } = 1024 * 1024;

    /// <summary>
    /// Gets or sets whether a 4xx response (the endpoint's own rejection) is stored and replayed like a success. When
    /// <see langword="false"/>, only responses below 400 keep the key: after a 4xx the same key runs the endpoint again.
    /// A 5xx or an exception never keeps the key: everything is rolled back.
    /// </summary>
    /// <value><see langword="true"/>.</value>
    public bool StoreClientErrors { get; set; } = true;

    /// <summary>
    /// Gets or sets what a key is unique within, from the request: by default the method, the route pattern and, for an
    /// authenticated user, the user's name identifier (a key from one user never replays another user's response).
    /// </summary>
    /// <value><see langword="null"/>: the default scope. Return at most 512 characters.</value>
    public Func<HttpContext, string>? Scope { get; set; }

    /// <summary>Gets the response headers stored and replayed besides the status and the body.</summary>
    /// <value>Content-Type, Content-Language, Content-Disposition, Location, ETag, Last-Modified, Cache-Control.</value>
    public IList<string> ReplayedHeaders { get; } =
        ["Content-Type", "Content-Language", "Content-Disposition", "Location", "ETag", "Last-Modified", "Cache-Control"];
}
