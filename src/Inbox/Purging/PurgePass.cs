using Inbox.Telemetry;
using Microsoft.Extensions.Logging;

namespace Inbox.Purging;

/// <summary>What one purge pass works with: its time, the inbox's options, and where it reports.</summary>
internal sealed record PurgePass(DateTimeOffset Now, TimeProvider Time, InboxOptions Options, InboxTelemetry Telemetry, ILogger Logger);
