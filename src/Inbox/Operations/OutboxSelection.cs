using System.Linq.Expressions;
using Inbox.Outbox.Storage;

namespace Inbox.Operations;

/// <summary>Which failed outbox messages an operation acts on: one by its ID, those to one destination, or all.</summary>
public sealed class OutboxSelection
{
    private readonly string _description;

    private OutboxSelection(Expression<Func<OutboxRecord, bool>> filter, string description, bool isAll)
    {
        Filter = filter;
        _description = description;
        IsAll = isAll;
    }

    /// <summary>Gets every failed message.</summary>
    public static OutboxSelection All { get; } = new(r => true, "all", isAll: true);

    /// <summary>Gets whether this selects every failed message.</summary>
    public bool IsAll { get; }

    internal Expression<Func<OutboxRecord, bool>> Filter { get; }

    /// <summary>Selects one message by its row ID (<see cref="FailedOutboxMessage.Id"/>).</summary>
    /// <param name="id">The row's ID.</param>
    /// <returns>The selection.</returns>
    public static OutboxSelection Message(long id)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(id);
        return new(r => r.Id == id, $"message {id}", isAll: false);
    }

    /// <summary>
    /// Selects the messages to one destination (a Kafka topic, a RabbitMQ exchange), as the outbox stores it, and with
    /// <paramref name="partitionKey"/> only those with that key: a RabbitMQ routing key, e.g. the queue of a message sent
    /// to the default exchange (stored as <c>amq.default</c>).
    /// </summary>
    /// <param name="destination">The destination, exactly.</param>
    /// <param name="partitionKey">The partition key (Kafka's record key, RabbitMQ's routing key), exactly; <see langword="null"/> for any.</param>
    /// <returns>The selection.</returns>
    public static OutboxSelection Destination(string destination, string? partitionKey = null)
    {
        OperatorInput.ThrowIfNotAName(destination);
        if (partitionKey is null)
        {
            return new(r => r.Destination == destination, $"destination {destination}", isAll: false);
        }

        OperatorInput.ThrowIfNotAName(partitionKey);
        return new(r => r.Destination == destination && r.PartitionKey == partitionKey, $"destination {destination}, key {partitionKey}", isAll: false);
    }

    /// <summary>Describes the selection, for logs.</summary>
    /// <returns>e.g. <c>message 42</c>, <c>destination invoices</c>, <c>all</c>.</returns>
    public override string ToString() => _description;
}
