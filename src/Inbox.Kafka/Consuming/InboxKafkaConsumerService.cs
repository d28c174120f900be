using Confluent.Kafka;
using Inbox.Kafka.DeadLettering;
using Inbox.Kafka.Health;
using Inbox.Kafka.Offsets;
using Inbox.Kafka.Telemetry;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Inbox.Kafka.Consuming;

/// <summary>
/// One subscription's consumer, as a hosted service. A dedicated long-running thread owns the Confluent consumer and
/// polls it; the <see cref="PartitionRouter"/> hands records to partition workers, the <see cref="RebalanceHandler"/>
/// answers the group's callbacks, the <see cref="OffsetCommitter"/> stores and commits offsets, and the
/// <see cref="KafkaBatchProcessor{TDbContext, TMessage, THandler}"/> does the work. On stop every worker finishes, the
/// offsets are committed and the consumer is closed before it is disposed. A consumer that ends by itself (a fatal
/// Kafka error, a failed worker, the database down past the limit) fails this service, so the host applies its
/// <c>HostOptions.BackgroundServiceExceptionBehavior</c> (by default: stop the host) and the health check says why.
/// </summary>
internal sealed class InboxKafkaConsumerService<TDbContext, TMessage, THandler> : BackgroundService
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
    private readonly InboxKafkaTelemetry _telemetry;
    private readonly KafkaConsumerStates _states;
    private readonly InboxKafkaConsumerOptions<TMessage> _options;
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _hardStop = new();
    private string _consumer = "";
    private KafkaConsumerState? _state;
    private SemaphoreSlim? _slots;
    private DeadLetterProducer? _deadLetters;
    private KafkaBatchProcessor<TDbContext, TMessage, THandler>? _processor;
    private RebalanceHandler? _rebalance;
    private Task<Exception?> _loop = Task.FromResult<Exception?>(null);
    private volatile Error? _fatal;
    private volatile bool _abandon;

    public InboxKafkaConsumerService(
        IServiceProvider services,
        IServiceScopeFactory scopes,
        IOptionsMonitor<InboxKafkaConsumerOptions<TMessage>> options,
        TimeProvider time,
        ILoggerFactory loggers,
        InboxKafkaTelemetry telemetry,
        KafkaConsumerStates states,
        string name)
    {
        _services = services;
        _scopes = scopes;
        _time = time;
        _telemetry = telemetry;
        _states = states;
        _logger = loggers.CreateLogger<InboxKafkaConsumerService<TDbContext, TMessage, THandler>>();
        _options = options.Get(name);
    }

    /// <summary>For tests: the subscription's options.</summary>
    internal InboxKafkaConsumerOptions<TMessage> Options => _options;

    /// <summary>For tests: how many of the MaxConcurrentBatches slots are free; all of them once every batch has unwound.</summary>
    internal int FreeSlots => _slots?.CurrentCount ?? 0;

    /// <summary>For tests: the Confluent consumer while the loop runs.</summary>
    internal IConsumer<byte[]?, byte[]?>? Consumer { get; private set; }

    public override async Task StartAsync(CancellationToken cancellationToken)
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

        _consumer = _options.ConsumerKey ?? _options.Consumer.GroupId;
        _state = _states.Add(_consumer, string.Join(", ", _options.Topics));
        _slots = new SemaphoreSlim(_options.MaxConcurrentBatches, _options.MaxConcurrentBatches);
        _deadLetters = new DeadLetterProducer(_options.Producer ?? DeadLetterProducer.ConfigFrom(_options.Consumer), _options.DeadLetterTopic, _consumer);
        IBatchOffsets offsets = _options.StoreOffsetsInDatabase ? new DatabaseBatchOffsets(_consumer, _time) : BrokerOffsets.Instance;
        _processor = new KafkaBatchProcessor<TDbContext, TMessage, THandler>(_scopes, _options, _consumer, offsets, _deadLetters, _slots, _telemetry, _time, _logger);
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _loop = Task.Factory.StartNew(Run, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        if (await _loop.ConfigureAwait(false) is { } failure && !_abandon)
        {
            _state!.Failed(failure.Message);
            Log.ConsumerFailed(_logger, _consumer, failure.Message, failure.InnerException ?? failure);
            throw failure;
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping.Cancel();

        // When the host's shutdown timeout runs out, in-flight batches are dropped uncommitted instead of finished.
        using var registration = cancellationToken.Register(_hardStop.Cancel);
        try
        {
            await _loop.WaitAsync(Timeout.InfiniteTimeSpan, _time, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // Reported by ExecuteAsync.
        }

        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>For tests: dies like a killed process would, without finishing work, committing or leaving the group.</summary>
    internal Task AbandonAsync()
    {
        _abandon = true;
        _hardStop.Cancel();
        _stopping.Cancel();
        return _loop;
    }

    public override void Dispose()
    {
        // The concurrency slots are not disposed: a dropped batch (a lost partition, a hard stop) may still be unwinding
        // and release its slot after this. A SemaphoreSlim holds nothing to dispose unless its wait handle was asked for.
        _stopping.Dispose();
        _hardStop.Dispose();
        _deadLetters?.Dispose();
        _telemetry.Forget(_consumer);
        base.Dispose();
    }

    /// <summary>The consume thread. Returns <see langword="null"/> after a requested stop, or why it ended by itself.</summary>
    private Exception? Run()
    {
        var config = new ConsumerConfig(_options.Consumer.ToDictionary(static c => c.Key, static c => c.Value)) { EnableAutoOffsetStore = false };
        config.StatisticsIntervalMs ??= 5_000;
        using var kafka = BuildConsumer(config);
        var (client, committer, router) = Wire(kafka, config);
        Exception? failure;
        try
        {
            kafka.Subscribe(_options.Topics);
            _state!.Started();
            Log.Subscribed(_logger, _consumer, string.Join(", ", _options.Topics));
            failure = Poll(kafka, router, committer);
        }
        catch (Exception exception)
        {
            failure = new InvalidOperationException($"the consume loop failed: {exception.Message}", exception);
        }
        finally
        {
            Shutdown(kafka, client);
        }

        return failure;
    }

    private IConsumer<byte[]?, byte[]?> BuildConsumer(ConsumerConfig config) => new ConsumerBuilder<byte[]?, byte[]?>(config)
        .SetErrorHandler(OnError)
        .SetLogHandler(OnLog)
        .SetStatisticsHandler((_, json) => _telemetry.RecordStatistics(_consumer, json))
        .SetPartitionsAssignedHandler((_, partitions) => _rebalance!.OnAssigned(partitions))
        .SetPartitionsRevokedHandler((_, partitions) => _rebalance!.OnRevoked(partitions.ConvertAll(static p => p.TopicPartition)))
        .SetPartitionsLostHandler((_, partitions) => _rebalance!.OnLost(partitions.ConvertAll(static p => p.TopicPartition)))
        .Build();

    /// <summary>The pieces around the consumer: offsets, partition workers, rebalances, health and telemetry.</summary>
    private (ConfluentKafkaClient Client, OffsetCommitter Committer, PartitionRouter Router) Wire(IConsumer<byte[]?, byte[]?> kafka, ConsumerConfig config)
    {
        var client = new ConfluentKafkaClient(kafka);
        var committer = new OffsetCommitter(client, config.EnableAutoCommit == false, TimeSpan.FromMilliseconds(config.AutoCommitIntervalMs ?? 5_000), _time, _logger, _consumer);
        var router = new PartitionRouter(
            client,
            partition => new PartitionWorker(partition, _options.BatchSize, _processor!.ProcessAsync, committer.Store, _hardStop.Token),
            _options.MaxBufferedPerPartition,
            _logger,
            _consumer);
        IAssignedOffsets offsets = _options.StoreOffsetsInDatabase
            ? new DatabaseOffsetReader<TDbContext>(_scopes, _consumer, _options.RetryDelay, _time, _logger, _stopping.Token)
            : BrokerOffsets.Instance;
        _rebalance = new RebalanceHandler(router, committer, offsets.Read, _options.RevocationTimeout, _time, _logger, _consumer);
        _state!.Partitions = () => (router.Count, router.PausedCount);
        _telemetry.ObservePaused(_consumer, () => router.PausedCount);
        Consumer = kafka;
        return (client, committer, router);
    }

    /// <summary>
    /// The poll loop: hands each record to its partition's worker, resumes what was assigned or drained, commits when due.
    /// Returns <see langword="null"/> once a stop is requested, or why the consumer cannot go on.
    /// </summary>
    private Exception? Poll(IConsumer<byte[]?, byte[]?> kafka, PartitionRouter router, OffsetCommitter committer)
    {
        var anyPaused = false;
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                if (kafka.Consume(anyPaused ? PausedPollTimeout : PollTimeout) is { IsPartitionEOF: false, Message: not null } record)
                {
                    router.Route(record);
                }
            }
            catch (ConsumeException exception) when (exception.Error.Code == ErrorCode.Local_MaxPollExceeded)
            {
                Log.MaxPollExceeded(_logger, _consumer);
                _rebalance!.DropAll();
            }
            catch (ConsumeException exception) when (exception.Error.IsFatal)
            {
                _fatal = exception.Error;
            }
            catch (ConsumeException exception)
            {
                Log.ConsumeFailed(_logger, _consumer, exception.Error.Reason, exception);
            }

            if (_rebalance!.TakeAssigned() is { } assigned)
            {
                router.ResumeAssigned(assigned);
            }

            anyPaused = router.ResumeDrained();
            committer.CommitIfDue();
            if (_fatal is { } fatal)
            {
                return new InvalidOperationException($"a fatal Kafka error, {fatal.Code}: {fatal.Reason}", new KafkaException(fatal));
            }

            if (router.Faulted is { } faulted)
            {
                var cause = faulted.Completion.Exception?.GetBaseException();
                return new InvalidOperationException($"the worker of {faulted.Partition} failed: {cause?.Message}", cause);
            }
        }

        return null;
    }

    /// <summary>
    /// Finishes and commits in-flight work, then closes the consumer (which leaves the group at once instead of after the
    /// session timeout); a consumer that dies like a killed process drops its work instead and does not close.
    /// </summary>
    private void Shutdown(IConsumer<byte[]?, byte[]?> kafka, ConfluentKafkaClient client)
    {
        if (_abandon)
        {
            _rebalance!.DropAll();
        }
        else
        {
            _rebalance!.FinishAll();
            try
            {
                kafka.Close();
            }
            catch (KafkaException exception)
            {
                Log.CloseFailed(_logger, _consumer, exception.Error.Reason);
            }
        }

        client.Close();
        Consumer = null;
        _state!.Stopped();
        Log.Stopped(_logger, _consumer);
    }

    private void OnError(IConsumer<byte[]?, byte[]?> kafka, Error error)
    {
        if (error.IsFatal)
        {
            _fatal = error;
        }

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
