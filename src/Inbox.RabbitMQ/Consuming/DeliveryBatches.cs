using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Inbox.RabbitMQ.Consuming;

/// <summary>
/// Batch mode (<c>BatchSize</c> &gt; 1): RabbitMQ.Client's callback (one at a time on the channel) reads each delivery
/// and queues it; one loop forms batches in delivery order from what has arrived, up to <c>BatchSize</c> each, and runs
/// up to <c>MaxConcurrency</c> of them at once. Each batch is acknowledged through the <see cref="AckWindow"/>, so a
/// multiple-ack never covers a delivery of a batch still running. Under load batches fill while others are in the
/// database; a lone delivery does not wait for company.
/// </summary>
internal sealed class DeliveryBatches<TDbContext, TMessage, THandler>(
    DeliveryProcessor<TDbContext, TMessage, THandler> processor,
    IChannel channel,
    int batchSize,
    int concurrency,
    InFlight inFlight)
    where TDbContext : DbContext
    where THandler : class, IRabbitMqInboxHandler<TMessage>
{
    // Unbounded: the prefetch count bounds what the broker sends ahead, hence what can wait here.
    private readonly Channel<RabbitMqDelivery<TMessage>> _waiting = Channel.CreateUnbounded<RabbitMqDelivery<TMessage>>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

    /// <summary>RabbitMQ.Client's callback: the delivery is in flight from here until its batch is settled.</summary>
    public Task EnqueueAsync(BasicDeliverEventArgs args)
    {
        inFlight.Enter();
        if (!_waiting.Writer.TryWrite(processor.Read(args)))
        {
            // Closed: the consumer is stopping; the delivery stays unacknowledged and comes back.
            inFlight.Exit();
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// Processes batches until <see cref="Complete"/>. After a batch left unsettled (cancelled past the shutdown timeout,
    /// or the database down past its limit, which stops the host) no more batches start and nothing more is
    /// acknowledged. What remains stays unacknowledged and comes back.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var window = new AckWindow();
        using var slots = new SemaphoreSlim(concurrency, concurrency);
        var running = new List<Task>();
        try
        {
            while (!window.Closed && await _waiting.Reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
            {
                // Waiting for a free slot lets the next batch grow meanwhile.
                await slots.WaitAsync(CancellationToken.None).ConfigureAwait(false);
                var batch = new List<RabbitMqDelivery<TMessage>>(batchSize);
                while (batch.Count < batchSize && _waiting.Reader.TryRead(out var delivery))
                {
                    batch.Add(delivery);
                }

                if (batch.Count == 0 || window.Closed)
                {
                    batch.ForEach(_ => inFlight.Exit());
                    slots.Release();
                    continue;
                }

                running.RemoveAll(static t => t.IsCompletedSuccessfully);
                running.Add(RunBatchAsync(batch, window.Open(batch[^1].Args.DeliveryTag), window, slots, cancellationToken));
            }
        }
        finally
        {
            Complete();
            while (_waiting.Reader.TryRead(out _))
            {
                inFlight.Exit();
            }
        }

        await Task.WhenAll(running).ConfigureAwait(false);
    }

    /// <summary>Takes no more deliveries; <see cref="RunAsync"/> ends once those waiting are processed.</summary>
    public void Complete() => _waiting.Writer.TryComplete();

    private async Task RunBatchAsync(List<RabbitMqDelivery<TMessage>> batch, object place, AckWindow window, SemaphoreSlim slots, CancellationToken cancellationToken)
    {
        // Yields first, so that the loop forms the next batch while this one runs.
        await Task.Yield();
        try
        {
            bool settled;
            try
            {
                settled = await processor.ProcessBatchAsync(batch, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Stopped past the shutdown timeout: left unacknowledged, delivered again.
                settled = false;
            }
            catch
            {
                window.Close();
                throw;
            }

            if (settled)
            {
                await window.SettleAsync(place, tag => processor.AckUpToAsync(channel, tag)).ConfigureAwait(false);
            }
            else
            {
                window.Close();
            }
        }
        finally
        {
            batch.ForEach(_ => inFlight.Exit());
            slots.Release();
        }
    }
}
