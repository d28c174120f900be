using Confluent.Kafka;
using Inbox.Kafka.DeadLettering;
using Inbox.Kafka.Offsets;
using Inbox.Kafka.Telemetry;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Inbox.Kafka.Consuming;

/// <summary>
/// One subscription's consumer. A dedicated long-running thread owns the Confluent consumer: it consumes, hands each
/// record to its partition's <see cref="PartitionWorker"/> (pausing a partition whose queue runs long), and runs the
/// rebalance callbacks: on assignment it starts workers (seeking to database offsets if on); on revocation it lets
/// their in-flight batches finish, commits the stored offsets and only then returns; on loss (or
/// <c>Local_MaxPollExceeded</c>) it drops their work and commits nothing. On stop it finishes every worker, commits,
/// and closes the consumer before disposing it.
/// </summary>
internal sealed class InboxKafkaConsumerService<TDbContext, TMessage, THandler> : IHostedService, IDisposable
    where TDbContext : DbContext
    where THandler : class, IInboxHandler<TMessage>
{
    private static readonly TimeSpan PollTimeout = TimeSpan.FromMilliseconds(100);

    // Nothing wakes Consume when a worker drains its queue: while a partition is paused, poll often enough that it is
    // resumed (and refetched) before its worker runs dry. With every partition paused, a 100 ms poll idled the workers.
    private static readonly TimeSpan PausedPollTimeout = TimeSpan.FromMilliseconds(5);

    private readonly IServiceProvider _services;
    private readonly IServiceScopeFactory _scopes;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly InboxKafkaConsumerOptions<TMessage> _options;
    private readonly Dictionary<TopicPartition, PartitionWorker> _workers = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _hardStop = new();
    private string _consumer = "";
    private SemaphoreSlim? _gate;
    private DeadLetterProducer? _deadLetters;
    private KafkaBatchProcessor<TDbContext, TMessage, THandler>? _processor;
    private IConsumer<byte[]?, byte[]?>? _kafka;
    private Task _loop = Task.CompletedTask;
    private volatile bool _fatal;
    private volatile bool _abandon;
    private List<TopicPartition>? _resumeAfterAssignment;

    public InboxKafkaConsumerService(
        IServiceProvider services,
        IServiceScopeFactory scopes,
        IOptionsMonitor<InboxKafkaConsumerOptions<TMessage>> options,
        TimeProvider time,
        ILoggerFactory loggers,
        string name)
    {
        _services = services;
        _scopes = scopes;
        _time = time;
        _logger = loggers.CreateLogger<InboxKafkaConsumerService<TDbContext, TMessage, THandler>>();
        _options = options.Get(name);
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var dbName = typeof(TDbContext).Name;
        if (!_services.GetServices<InboxRegistration>().Any(r => r.DbContextType == typeof(TDbContext)))
        {
            throw new InvalidOperationException(
                $"No inbox is registered for {dbName}: call services.AddInbox<{dbName}>() next to services.AddInboxKafkaConsumer<{dbName}, {typeof(TMessage).Name}, {typeof(THandler).Name}>().");
        }

        if (_options.StoreOffsetsInDatabase)
        {
            var scope = _scopes.CreateAsyncScope();
            await using (scope.ConfigureAwait(false))
            {
                DatabaseOffsets.EnsureMapped(scope.ServiceProvider.GetRequiredService<TDbContext>());
            }
        }

        _consumer = _options.ConsumerName ?? _options.Consumer.GroupId;
        _gate = new SemaphoreSlim(_options.MaxConcurrentBatches, _options.MaxConcurrentBatches);
        _deadLetters = new DeadLetterProducer(_options.Producer ?? DeadLetterProducer.ConfigFrom(_options.Consumer), _options.DeadLetterTopic, _consumer);
        _processor = new KafkaBatchProcessor<TDbContext, TMessage, THandler>(_scopes, _options, _consumer, _deadLetters, _time, _logger);
        _loop = Task.Factory.StartNew(Run, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping.Cancel();

        // When the host's shutdown timeout runs out, in-flight batches are dropped uncommitted instead of finished.
        using var registration = cancellationToken.Register(_hardStop.Cancel);
        await _loop.WaitAsync(Timeout.InfiniteTimeSpan, _time, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>For tests: dies like a killed process would, without finishing work, committing or leaving the group.</summary>
    internal Task AbandonAsync()
    {
        _abandon = true;
        _hardStop.Cancel();
        _stopping.Cancel();
        return _loop;
    }

    public void Dispose()
    {
        _stopping.Dispose();
        _hardStop.Dispose();
        _gate?.Dispose();
        _deadLetters?.Dispose();
    }

    private void Run()
    {
        var config = new ConsumerConfig(_options.Consumer.ToDictionary(static c => c.Key, static c => c.Value)) { EnableAutoOffsetStore = false };
        var manualCommit = config.EnableAutoCommit == false;
        var commitInterval = TimeSpan.FromMilliseconds(config.AutoCommitIntervalMs ?? 5_000);
        var lastCommit = _time.GetTimestamp();

        // Back-pressure: a partition holding MaxBufferedPerPartition records is paused, and resumed at half of that.
        // librdkafka drops a paused partition's prefetched records and a resumed one takes a while to fetch again, so
        // the resume comes early enough for the worker's backlog to hide it. Measured (kafka benchmark, batch 100,
        // 100,000 messages): pausing at 1,000 ran at 8,800 msg/s, at 10,000 at 24,900 (raw consumer: about 25,000).
        var pauseAt = _options.MaxBufferedPerPartition;
        var resumeAt = pauseAt / 2;
        var anyPaused = false;
        using var kafka = new ConsumerBuilder<byte[]?, byte[]?>(config)
            .SetErrorHandler(OnError)
            .SetLogHandler(OnLog)
            .SetPartitionsAssignedHandler(OnAssigned)
            .SetPartitionsRevokedHandler(OnRevoked)
            .SetPartitionsLostHandler(OnLost)
            .Build();
        _kafka = kafka;
        try
        {
            kafka.Subscribe(_options.Topics);
            Log.Subscribed(_logger, _consumer, string.Join(", ", _options.Topics));
            while (!_stopping.IsCancellationRequested && !_fatal)
            {
                try
                {
                    if (kafka.Consume(anyPaused ? PausedPollTimeout : PollTimeout) is { IsPartitionEOF: false, Message: not null } record)
                    {
                        Route(kafka, record, pauseAt);
                    }
                }
                catch (ConsumeException exception) when (exception.Error.Code == ErrorCode.Local_MaxPollExceeded)
                {
                    Log.MaxPollExceeded(_logger, _consumer);
                    Drop(Take(null));
                }
                catch (ConsumeException exception) when (!exception.Error.IsFatal)
                {
                    Log.ConsumeFailed(_logger, _consumer, exception.Error.Reason, exception);
                }

                if (_resumeAfterAssignment is { } assigned)
                {
                    // librdkafka keeps a partition's pause across revocation and reassignment; a new worker starts unpaused.
                    _resumeAfterAssignment = null;
                    Resume(kafka, assigned);
                }

                anyPaused = ResumeDrained(kafka, resumeAt);
                if (manualCommit && _time.GetElapsedTime(lastCommit) >= commitInterval)
                {
                    Commit(kafka);
                    lastCommit = _time.GetTimestamp();
                }

                if (_workers.Values.FirstOrDefault(w => w.Completion.IsFaulted) is { } failed)
                {
                    Log.WorkerFailed(_logger, _consumer, failed.Partition.ToString(), failed.Completion.Exception!);
                    break;
                }
            }
        }
        catch (KafkaException exception)
        {
            Log.ConsumeFailed(_logger, _consumer, exception.Error.Reason, exception);
        }
        finally
        {
            if (_abandon)
            {
                Drop(Take(null));
            }
            else
            {
                // Finish and commit first, then Close (which leaves the group at once instead of after the session timeout).
                Finish(Take(null));
                Commit(kafka);
                try
                {
                    kafka.Close();
                }
                catch (KafkaException exception)
                {
                    Log.CommitFailed(_logger, _consumer, exception.Error.Reason);
                }
            }

            _kafka = null;
            Log.Stopped(_logger, _consumer);
        }
    }

    private void Route(IConsumer<byte[]?, byte[]?> kafka, ConsumeResult<byte[]?, byte[]?> record, int pauseAt)
    {
        if (!_workers.TryGetValue(record.TopicPartition, out var worker))
        {
            worker = _workers[record.TopicPartition] = StartWorker(record.TopicPartition);
        }

        worker.Enqueue(record);
        if (!worker.Paused && worker.Queued >= pauseAt)
        {
            kafka.Pause([record.TopicPartition]);
            worker.Paused = true;
            Log.Paused(_logger, _consumer, record.TopicPartition.ToString(), worker.Queued);
        }
    }

    /// <summary>Resumes the partitions whose workers have drained; returns whether any stays paused.</summary>
    private bool ResumeDrained(IConsumer<byte[]?, byte[]?> kafka, int resumeAt)
    {
        var anyPaused = false;
        foreach (var worker in _workers.Values)
        {
            if (worker.Paused && worker.Queued <= resumeAt)
            {
                kafka.Resume([worker.Partition]);
                worker.Paused = false;
                Log.Resumed(_logger, _consumer, worker.Partition.ToString(), worker.Queued);
            }

            anyPaused |= worker.Paused;
        }

        return anyPaused;
    }

    private void Resume(IConsumer<byte[]?, byte[]?> kafka, List<TopicPartition> partitions)
    {
        try
        {
            kafka.Resume(partitions);
        }
        catch (KafkaException exception)
        {
            // Revoked again before this ran: the next assignment resumes them.
            Log.CommitFailed(_logger, _consumer, exception.Error.Reason);
        }
    }

    private PartitionWorker StartWorker(TopicPartition partition) =>
        new(partition, _options.BatchSize, _gate!, _processor!.ProcessAsync, Store, _hardStop.Token);

    private IEnumerable<TopicPartitionOffset> OnAssigned(IConsumer<byte[]?, byte[]?> kafka, List<TopicPartition> partitions)
    {
        var stored = _options.StoreOffsetsInDatabase ? ReadDatabaseOffsets(partitions) : [];
        var positions = new List<TopicPartitionOffset>(partitions.Count);
        foreach (var partition in partitions)
        {
            if (!_workers.ContainsKey(partition))
            {
                _workers[partition] = StartWorker(partition);
            }

            if (stored.TryGetValue(partition, out var offset))
            {
                Log.SeekingToDatabaseOffset(_logger, _consumer, partition.ToString(), offset);
                positions.Add(new TopicPartitionOffset(partition, offset));
            }
            else
            {
                positions.Add(new TopicPartitionOffset(partition, Offset.Unset));
            }
        }

        _resumeAfterAssignment = [.. partitions];
        Log.Assigned(_logger, _consumer, string.Join(", ", partitions));
        return positions;
    }

    private void OnRevoked(IConsumer<byte[]?, byte[]?> kafka, List<TopicPartitionOffset> partitions)
    {
        var revoked = Take(partitions.Select(p => p.TopicPartition));
        Finish(revoked);
        Commit(kafka);
        Log.Revoked(_logger, _consumer, string.Join(", ", partitions.Select(p => p.TopicPartition)));
    }

    private void OnLost(IConsumer<byte[]?, byte[]?> kafka, List<TopicPartitionOffset> partitions)
    {
        Drop(Take(partitions.Select(p => p.TopicPartition)));
        Log.Lost(_logger, _consumer, string.Join(", ", partitions.Select(p => p.TopicPartition)));
    }

    /// <summary>Removes the workers of these partitions (all when null) from the routing table.</summary>
    private List<PartitionWorker> Take(IEnumerable<TopicPartition>? partitions)
    {
        var taken = new List<PartitionWorker>();
        foreach (var partition in partitions ?? [.. _workers.Keys])
        {
            if (_workers.Remove(partition, out var worker))
            {
                taken.Add(worker);
            }
        }

        return taken;
    }

    private void Finish(List<PartitionWorker> workers)
    {
        workers.ForEach(static w => w.Finish());
        if (!Wait(workers, _options.RevocationTimeout))
        {
            Log.RevocationTimedOut(_logger, _consumer, string.Join(", ", workers.Select(w => w.Partition)), _options.RevocationTimeout);
            Drop(workers);
            return;
        }

        workers.ForEach(static w => w.Dispose());
    }

    private void Drop(List<PartitionWorker> workers)
    {
        workers.ForEach(static w => w.Drop());
        Wait(workers, _options.RevocationTimeout);
        workers.ForEach(static w => w.Dispose());
    }

    private bool Wait(List<PartitionWorker> workers, TimeSpan timeout)
    {
        var all = Task.WhenAll(workers.Select(static w => w.Completion));
        try
        {
            return all.Wait(timeout);
        }
        catch (AggregateException exception)
        {
            Log.WorkerFailed(_logger, _consumer, string.Join(", ", workers.Select(w => w.Partition)), exception);
            return true;
        }
    }

    private void Store(TopicPartitionOffset offset)
    {
        try
        {
            _kafka?.StoreOffset(offset);
        }
        catch (KafkaException exception)
        {
            Log.StoreFailed(_logger, _consumer, offset.TopicPartition.ToString(), offset.Offset.Value, exception.Error.Reason);
        }
    }

    private void Commit(IConsumer<byte[]?, byte[]?> kafka)
    {
        try
        {
            kafka.Commit();
        }
        catch (KafkaException exception) when (exception.Error.Code == ErrorCode.Local_NoOffset)
        {
            // Nothing stored since the last commit.
        }
        catch (KafkaException exception)
        {
            Log.CommitFailed(_logger, _consumer, exception.Error.Reason);
        }
    }

    private Dictionary<TopicPartition, long> ReadDatabaseOffsets(List<TopicPartition> partitions)
    {
        // Runs on the consume thread inside the rebalance callback, which cannot be async. If the database cannot be
        // read, Kafka's committed offsets are used: they are never ahead of the database's, so that only costs
        // redeliveries, which the inbox skips.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var scope = _scopes.CreateScope();
                using (scope)
                {
                    var db = scope.ServiceProvider.GetRequiredService<TDbContext>();
                    var topics = partitions.Select(p => p.Topic).Distinct().ToList();
                    return DatabaseOffsets.ReadAsync(db, _consumer, topics, _stopping.Token).GetAwaiter().GetResult();
                }
            }
            catch (Exception exception) when (attempt < 3 && !_stopping.IsCancellationRequested)
            {
                Log.BatchFailed(_logger, _consumer, string.Join(", ", partitions), attempt, _options.RetryDelay, exception);
                _stopping.Token.WaitHandle.WaitOne(_options.RetryDelay);
            }
            catch (Exception exception)
            {
                Log.BatchFailed(_logger, _consumer, string.Join(", ", partitions), attempt, TimeSpan.Zero, exception);
                return [];
            }
        }
    }

    private void OnError(IConsumer<byte[]?, byte[]?> kafka, Error error)
    {
        _fatal |= error.IsFatal;
        var level = error.IsFatal ? LogLevel.Critical
            : error.Code is ErrorCode.Local_Transport ? LogLevel.Debug
            : error.Code is ErrorCode.Local_AllBrokersDown ? LogLevel.Information
            : LogLevel.Warning;
        Log.KafkaError(_logger, level, _consumer, error.Code.ToString(), error.Reason);
    }

    private void OnLog(IConsumer<byte[]?, byte[]?> kafka, LogMessage message)
    {
        // librdkafka retries what it logs as errors (a refused connection, a failed commit) and reports what matters
        // through the error handler too: an outage would flood the log at Warning.
        var level = message.Level switch
        {
            SyslogLevel.Emergency or SyslogLevel.Alert or SyslogLevel.Critical => LogLevel.Error,
            SyslogLevel.Error or SyslogLevel.Warning when message.Facility != "FAIL" => LogLevel.Information,
            _ => LogLevel.Debug,
        };
        Log.Librdkafka(_logger, level, _consumer, message.Facility, message.Message);
    }
}
