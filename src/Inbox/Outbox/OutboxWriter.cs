using System.Diagnostics;
using System.Text.Json;
using Inbox.Outbox.Storage;
using Inbox.Outbox.Writing;
using Microsoft.EntityFrameworkCore;

namespace Inbox;

/// <summary>
/// Writes outgoing messages into a DbContext's outbox table: each one is an entity saved by the DbContext's next
/// <c>SaveChanges</c>, so it commits with the application's other writes, or not at all. Nothing is sent before the
/// commit; a dispatcher sends it after. Get one with <c>db.Outbox()</c>.
/// </summary>
public sealed class OutboxWriter
{
    private readonly DbContext _db;

    internal OutboxWriter(DbContext db) => _db = db;

    /// <summary>
    /// Adds a message to the outbox. It is saved, and later sent, with the DbContext's changes; its message ID is fixed
    /// now, so that a send repeated after a crash carries the same one and the receiving inbox skips the repeat.
    /// </summary>
    /// <param name="message">What to send.</param>
    /// <returns>The message ID it will be sent under.</returns>
    /// <exception cref="InvalidOutboxMessageException">The message cannot be carried (no destination, a bad ID or header).</exception>
    /// <exception cref="InvalidOperationException">The DbContext's model has no outbox table.</exception>
    public string Add(OutboxMessage message)
    {
        OutboxMessageValidation.Validate(message);
        if (_db.Model.FindEntityType(typeof(OutboxRecord)) is null)
        {
            var name = _db.GetType().Name;
            throw new InvalidOperationException(
                $"{name}'s model has no outbox table: call modelBuilder.AddOutbox() in {name}.OnModelCreating, then add a migration.");
        }

        var messageId = message.MessageId ?? Guid.CreateVersion7().ToString("D");
        _db.Set<OutboxRecord>().Add(new OutboxRecord
        {
            MessageId = messageId,
            Transport = message.Transport,
            Destination = message.Destination,
            PartitionKey = message.PartitionKey,
            KeyHash = OutboxKeyHash.Of(message.Destination, message.PartitionKey),
            LocksKey = message.CommitOrder,
            Body = message.Body.ToArray(),
            Headers = message.Headers is { Count: > 0 } headers ? JsonSerializer.Serialize(headers, OutboxJson.Default.IReadOnlyDictionaryStringString) : null,
            ContentType = message.ContentType,
            TraceParent = Activity.Current?.Id is { } id && Activity.Current.IdFormat == ActivityIdFormat.W3C ? id : null,
        });
        return messageId;
    }
}
