using Inbox.Kafka.Tests.Infrastructure;
using Inbox.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Inbox.Kafka.Tests;

/// <summary>Stopping in the middle of things: work that is dropped unwinds quietly, and a stop is no error.</summary>
public sealed class InboxKafkaShutdownTests(ITestOutputHelper output) : KafkaTestBase(output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A consumer dies with a batch in its handler and is disposed; the handler returns afterwards, and the dropped batch
    /// unwinds: its unit of work sees the cancellation and gives its concurrency slot back, to a semaphore the disposal
    /// must have left usable (a release that throws leaves the slot taken and fails the worker nobody awaits).
    /// </summary>
    [Fact]
    public async Task Dispose_WhileADroppedBatchIsStillInItsHandler_TheBatchUnwindsAndGivesItsSlotBack()
    {
        await using var broker = await StartBrokerAsync(1);
        await ProduceAsync(broker, Topic, Stream(1, 0));
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var probe = new HandlerProbe { Hold = release.Task };
        var consumer = await StartConsumerAsync(broker, "c1", services: s => s.AddSingleton(probe));
        var service = consumer.Service;
        var slots = service.Options.MaxConcurrentBatches;
        await probe.Held.Task.WaitAsync(Patience);
        Assert.Equal(slots - 1, service.FreeSlots);

        await consumer.AbandonAsync();
        await consumer.DisposeAsync();
        release.SetResult();
        await probe.Released.Task.WaitAsync(Patience);

        await Eventually.Until(
            () => Task.FromResult(service.FreeSlots == slots),
            Patience,
            () => Task.FromResult($"{service.FreeSlots} of {slots} slots free"),
            "the dropped batch to give its slot back");
        Assert.Equal(1, probe.Calls);
    }

    /// <summary>
    /// With database offsets, the consumer reads them when partitions are assigned. Stopping while that read waits (the
    /// offsets table is locked by another session) abandons the read: logged at Debug, not as an error.
    /// </summary>
    [Fact]
    public async Task Stop_WhileTheDatabaseOffsetsAreRead_IsNoError()
    {
        await using var broker = await StartBrokerAsync(1);
        await ProduceAsync(broker, Topic, Stream(5, 0));
        await using var locker = new NpgsqlConnection(ConnectionString);
        await locker.OpenAsync();
        await using var transaction = await locker.BeginTransactionAsync();
        await using (var take = new NpgsqlCommand("LOCK TABLE inbox_kafka_offsets IN ACCESS EXCLUSIVE MODE", locker, transaction))
        {
            await take.ExecuteNonQueryAsync();
        }

        await using var consumer = await StartConsumerAsync(broker, "c1", o => o.StoreOffsetsInDatabase = true);
        await Eventually.Until(
            () => OffsetReadWaitsAsync(),
            Patience,
            () => Task.FromResult("no read of inbox_kafka_offsets waits on the lock"),
            "the partition assignment to read the database offsets");
        await consumer.StopAsync();

        const int cancelled = 120, retried = 118, unread = 119, batchFailed = 110;
        Assert.Equal(1, consumer.Logs.Count(cancelled));
        Assert.Equal((0, 0, 0), (consumer.Logs.Count(retried), consumer.Logs.Count(unread), consumer.Logs.Count(batchFailed)));
        Assert.Equal(0, consumer.Probe.Calls);
    }

    private async Task<bool> OffsetReadWaitsAsync()
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND position('inbox_kafka_offsets' in query) > 0",
            connection);
        return (long)(await command.ExecuteScalarAsync())! > 0;
    }
}
