using Inbox.RabbitMQ.DeadLettering;
using Inbox.RabbitMQ.Health;
using Inbox.RabbitMQ.Telemetry;
using Inbox.Resilience;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Inbox.RabbitMQ.Consuming;

/// <summary>
/// One queue's consumer. It connects in the background (with back-off, so the host starts while the broker is down),
/// declares the queue and its dead-letter queue, and hands each delivery to <see cref="DeliveryProcessor{TDbContext, TMessage, THandler}"/>,
/// up to <c>MaxConcurrency</c> at once (RabbitMQ.Client's consumer dispatch concurrency), or, with <c>BatchSize</c> above 1,
/// to <see cref="DeliveryBatches{TDbContext, TMessage, THandler}"/>, up to <c>MaxConcurrency</c> batches at once. On stop it cancels the
/// consumer, lets the deliveries in flight finish within <c>ShutdownTimeout</c> (what commits is acknowledged), then
/// cancels the rest, which stay unacknowledged and come back.
/// </summary>
internal sealed class RabbitMqConsumerService<TDbContext, TMessage, THandler> : IHostedService, IAsyncDisposable, IDisposable
    where TDbContext : DbContext
    where THandler : class, IRabbitMqInboxHandler<TMessage>
{
    private readonly IServiceProvider _services;
    private readonly IServiceScopeFactory _scopes;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly InboxRabbitMqConsumerOptions<TMessage> _options;
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _hardStop = new();
    private readonly InFlight _inFlight = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly RabbitMqConsumerStates _states;
    private readonly InboxRabbitMqTelemetry _telemetry;
    private RabbitMqConsumerState? _state;
    private string _consumer = "";
    private Task _run = Task.CompletedTask;
    private IConnection? _connection;
    private IChannel? _channel;
    private DeadLetterPublisher? _deadLetters;
    private string? _consumerTag;
    private DeliveryBatches<TDbContext, TMessage, THandler>? _batches;
    private Task _batchLoop = Task.CompletedTask;

    public RabbitMqConsumerService(
        IServiceProvider services,
        IServiceScopeFactory scopes,
        TimeProvider time,
        ILoggerFactory loggers,
        IOptionsMonitor<InboxRabbitMqConsumerOptions<TMessage>> options,
        RabbitMqConsumerStates states,
        InboxRabbitMqTelemetry telemetry,
        string name)
    {
        _states = states;
        _telemetry = telemetry;
        _services = services;
        _scopes = scopes;
        _time = time;
        _logger = loggers.CreateLogger<RabbitMqConsumerService<TDbContext, TMessage, THandler>>();
        _options = options.Get(name);
    }

    private bool Batched => _options.BatchSize > 1;

    /// <summary>For tests: the consumer's options.</summary>
    internal InboxRabbitMqConsumerOptions<TMessage> Options => _options;

    /// <summary>For tests: completes once the consumer is registered with the broker.</summary>
    internal Task Ready => _ready.Task;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var dbName = typeof(TDbContext).Name;
        if (!_services.GetServices<InboxRegistration>().Any(r => r.DbContextType == typeof(TDbContext)))
        {
            throw new InvalidOperationException(
                $"No inbox is registered for {dbName}: call services.AddInbox<{dbName}>() next to " +
                $"services.AddInboxRabbitMqConsumer<{dbName}, {typeof(TMessage).Name}, {typeof(THandler).Name}>().");
        }

        _consumer = _options.ConsumerKey ?? _options.Queue;
        _state = _states.Add(_consumer, _options.Queue, _time.GetUtcNow());
        _telemetry.ObserveInFlight(_consumer, _options.Queue, () => _inFlight.Count);
        _run = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        await _run.ConfigureAwait(false);
        if (_channel is { } channel && _consumerTag is { } tag)
        {
            try
            {
                await channel.BasicCancelAsync(tag, noWait: false, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // A closed channel delivers nothing more anyway.
            }
        }

        // The host's own shutdown timeout cuts the wait short as well.
        using var registration = cancellationToken.Register(_hardStop.Cancel);
        var idle = _inFlight.WhenIdleAsync();
        if (await Task.WhenAny(idle, Task.Delay(_options.ShutdownTimeout, _time, _hardStop.Token)).ConfigureAwait(false) != idle)
        {
            Log.ShutdownTimedOut(_logger, _consumer, _inFlight.Count, _options.ShutdownTimeout);
            _hardStop.Cancel();
            await idle.ConfigureAwait(false);
        }

        _batches?.Complete();
        await _batchLoop.ConfigureAwait(false);

        await CloseAsync().ConfigureAwait(false);
        if (_state is { } state)
        {
            _states.Remove(state);
        }

        _telemetry.Forget(_consumer, _options.Queue);

        Log.Stopped(_logger, _consumer);
    }

    public async ValueTask DisposeAsync()
    {
        await CloseAsync().ConfigureAwait(false);
        _stopping.Dispose();
        _hardStop.Dispose();
    }

    // For a container disposed synchronously (a host in a plain using): RabbitMQ.Client's channel and connection close
    // synchronously as well.
    public void Dispose()
    {
        _deadLetters?.Dispose();
        _deadLetters = null;
        _channel?.Dispose();
        _channel = null;
        _connection?.Dispose();
        _connection = null;
        _stopping.Dispose();
        _hardStop.Dispose();
    }

    /// <summary>Connects, declares and starts consuming; returns once consuming, or when stopped first.</summary>
    private async Task RunAsync(CancellationToken stoppingToken)
    {
        var connect = Backoff.Build(
            _time,
            _options.RetryDelay,
            TimeSpan.FromSeconds(30),
            static (exception, context) => !context.CancellationToken.IsCancellationRequested && exception is not OperationCanceledException,
            args => Log.ConnectFailed(_logger, _consumer, args.AttemptNumber + 1, args.RetryDelay, args.Outcome.Exception!));
        try
        {
            await connect.ExecuteAsync(static async (self, ct) => await self.ConnectAsync(ct).ConfigureAwait(false), this, stoppingToken).ConfigureAwait(false);
            _ready.TrySetResult();
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            _ready.TrySetCanceled(stoppingToken);
        }
    }

    private async Task ConnectAsync(CancellationToken cancellationToken)
    {
        await CloseAsync().ConfigureAwait(false);
        var factory = _options.Connection;
        factory.AutomaticRecoveryEnabled = true;
        factory.ClientProvidedName ??= $"inbox:{_consumer}";
        _connection = await factory.CreateConnectionAsync(cancellationToken).ConfigureAwait(false);
        _connection.ConnectionShutdownAsync += (_, _) =>
        {
            _state?.Disconnected(_time.GetUtcNow());
            return Task.CompletedTask;
        };
        _connection.RecoverySucceededAsync += (_, _) =>
        {
            _state?.Connected();
            return Task.CompletedTask;
        };

        // A consumer tag the server chose may change when RabbitMQ.Client registers the consumer again after recovery.
        _connection.ConsumerTagChangeAfterRecoveryAsync += (_, args) =>
        {
            if (args.TagBefore == _consumerTag)
            {
                _consumerTag = args.TagAfter;
            }

            return Task.CompletedTask;
        };
        _channel = await _connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: false, publisherConfirmationTrackingEnabled: false, consumerDispatchConcurrency: (ushort)(Batched ? 1 : _options.MaxConcurrency)),
            cancellationToken).ConfigureAwait(false);
        var deadLetterQueue = _options.DeadLetterQueue ?? $"{_options.Queue}.dead-letter";
        var publisher = await _connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true),
            cancellationToken).ConfigureAwait(false);
        _deadLetters = new DeadLetterPublisher(publisher, deadLetterQueue, _consumer, _options.Queue);

        if (_options.DeclareQueue)
        {
            await DeclareAsync(_channel, deadLetterQueue, cancellationToken).ConfigureAwait(false);
        }

        await _channel.BasicQosAsync(0, _options.PrefetchCount, global: false, cancellationToken).ConfigureAwait(false);
        var processor = new DeliveryProcessor<TDbContext, TMessage, THandler>(
            _scopes, _options, _consumer, _deadLetters, _services.GetService<IHostApplicationLifetime>(), _state!, _telemetry, _time, _logger);
        var consumer = new AsyncEventingBasicConsumer(_channel);
        var channel = _channel;
        if (Batched)
        {
            var batches = new DeliveryBatches<TDbContext, TMessage, THandler>(processor, channel, _options.BatchSize, _options.MaxConcurrency, _inFlight);
            _batches = batches;
            _batchLoop = Task.Run(() => RunBatchesAsync(batches), CancellationToken.None);
            consumer.ReceivedAsync += (_, args) => batches.EnqueueAsync(args);
        }
        else
        {
            consumer.ReceivedAsync += (_, args) => OnReceivedAsync(processor, channel, args);
        }

        _consumerTag = await _channel.BasicConsumeAsync(_options.Queue, autoAck: false, consumer, cancellationToken).ConfigureAwait(false);
        _state?.Connected();
        Log.Consuming(_logger, _consumer, _options.Queue, _options.PrefetchCount, _options.MaxConcurrency, _options.BatchSize);
    }

    private async Task RunBatchesAsync(DeliveryBatches<TDbContext, TMessage, THandler> batches)
    {
        try
        {
            await batches.RunAsync(_hardStop.Token).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            // Nothing after this batch may be acknowledged (a multiple-ack would cover it): stop rather than lose it.
            Log.BatchesFailed(_logger, _consumer, exception);
            _state?.Failed($"processing batches failed: {exception.Message}");
            _services.GetService<IHostApplicationLifetime>()?.StopApplication();
        }
    }

    private async Task DeclareAsync(IChannel channel, string deadLetterQueue, CancellationToken cancellationToken)
    {
        var arguments = new Dictionary<string, object?>();
        if (_options.QueueType is { } type)
        {
            arguments["x-queue-type"] = type;
        }

        var queueArguments = new Dictionary<string, object?>(arguments);
        if (_options.SingleActiveConsumer)
        {
            queueArguments["x-single-active-consumer"] = true;
        }

        await channel.QueueDeclareAsync(_options.Queue, durable: true, exclusive: false, autoDelete: false, queueArguments, cancellationToken: cancellationToken).ConfigureAwait(false);
        await channel.QueueDeclareAsync(deadLetterQueue, durable: true, exclusive: false, autoDelete: false, arguments, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (_options.Exchange is { } exchange)
        {
            await channel.QueueBindAsync(_options.Queue, exchange, _options.RoutingKey, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task OnReceivedAsync(DeliveryProcessor<TDbContext, TMessage, THandler> processor, IChannel channel, BasicDeliverEventArgs args)
    {
        _inFlight.Enter();
        try
        {
            await processor.ProcessAsync(channel, args, _hardStop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_hardStop.IsCancellationRequested)
        {
            // Stopped past the shutdown timeout: left unacknowledged, delivered again.
        }
        finally
        {
            _inFlight.Exit();
        }
    }

    private async Task CloseAsync()
    {
        _batches?.Complete();
        if (_deadLetters is { } deadLetters)
        {
            _deadLetters = null;
            await deadLetters.DisposeAsync().ConfigureAwait(false);
        }

        if (_channel is { } channel)
        {
            _channel = null;
            await channel.DisposeAsync().ConfigureAwait(false);
        }

        if (_connection is { } connection)
        {
            _connection = null;
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }
}
