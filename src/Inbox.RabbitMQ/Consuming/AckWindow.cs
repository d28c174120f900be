namespace Inbox.RabbitMQ.Consuming;

/// <summary>
/// Acknowledges concurrent batches in delivery order with multiple-acks: a batch that commits while an earlier one is
/// still running waits in the window, and the earliest batch to finish acknowledges every finished batch behind it with
/// one multiple-ack of the last one's tag. A batch that is never settled (the host stopping for a database outage, or
/// cut short at shutdown) closes the window: a multiple-ack past it would acknowledge deliveries that never committed.
/// Hand-written: an ordered completion window is a dozen lines that no library offers for AMQP delivery tags.
/// </summary>
internal sealed class AckWindow
{
    private readonly LinkedList<Slot> _slots = [];
    private readonly SemaphoreSlim _gate = new(1, 1);
    private bool _closed;

    /// <summary>Whether a batch was left unsettled: nothing is acknowledged any more.</summary>
    public bool Closed
    {
        get
        {
            lock (_slots)
            {
                return _closed;
            }
        }
    }

    /// <summary>Takes a place for a batch ending with <paramref name="lastTag"/>, in the order batches are formed.</summary>
    public object Open(ulong lastTag)
    {
        lock (_slots)
        {
            return _slots.AddLast(new Slot(lastTag));
        }
    }

    /// <summary>
    /// Marks a batch settled and acknowledges, through <paramref name="ack"/> (a multiple-ack), every settled batch at
    /// the window's head. Acknowledgements go out one at a time and in tag order: a smaller multiple-ack after a larger
    /// one would name a tag the broker no longer knows and close the channel.
    /// </summary>
    public async Task SettleAsync(object place, Func<ulong, Task> ack)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            ulong? upTo = null;
            lock (_slots)
            {
                ((LinkedListNode<Slot>)place).Value.Settled = true;
                while (!_closed && _slots.First is { Value.Settled: true } head)
                {
                    upTo = head.Value.LastTag;
                    _slots.RemoveFirst();
                }
            }

            if (upTo is { } tag)
            {
                await ack(tag).ConfigureAwait(false);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Closes the window for a batch left unsettled: it stays unacknowledged, and so does every later one.</summary>
    public void Close()
    {
        lock (_slots)
        {
            _closed = true;
        }
    }

    private sealed class Slot(ulong lastTag)
    {
        public ulong LastTag { get; } = lastTag;

        public bool Settled { get; set; }
    }
}
