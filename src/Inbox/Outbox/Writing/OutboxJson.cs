using System.Text.Json.Serialization;

namespace Inbox.Outbox.Writing;

/// <summary>Source-generated JSON for the headers column: a flat object of strings.</summary>
[JsonSerializable(typeof(IReadOnlyDictionary<string, string>))]
[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class OutboxJson : JsonSerializerContext;
