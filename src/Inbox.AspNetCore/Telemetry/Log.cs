using Microsoft.Extensions.Logging;

namespace Inbox.AspNetCore.Telemetry;

internal static partial class Log
{
    [LoggerMessage(EventId = 3001, Level = LogLevel.Debug, Message = "Replayed the stored {StatusCode} response of Idempotency-Key {Key} for {Scope}")]
    public static partial void Replayed(ILogger logger, string key, string scope, int statusCode);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "Idempotency-Key {Key} for {Scope} is still in flight: answered 409")]
    public static partial void InFlight(ILogger logger, string key, string scope);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Idempotency-Key {Key} for {Scope} was used for another request: answered 422")]
    public static partial void Mismatch(ILogger logger, string key, string scope);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Debug, Message = "Idempotency-Key {Key} for {Scope}: the endpoint answered {StatusCode}; nothing kept")]
    public static partial void NotStored(ILogger logger, string key, string scope, int statusCode);
}
