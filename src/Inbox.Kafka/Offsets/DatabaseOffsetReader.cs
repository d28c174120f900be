using Confluent.Kafka;
using Inbox.Kafka.Telemetry;
using Inbox.Resilience;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Polly;

namespace Inbox.Kafka.Offsets;

/// <summary>
/// Reads the offsets a subscription wrote in its own transactions (<c>StoreOffsetsInDatabase</c>) when partitions are
/// assigned. It runs on the consume thread inside the rebalance callback, which cannot be async. If the database cannot
/// be read after two more tries, Kafka's committed offsets are used: they are never ahead of the database's, so that
/// only costs redeliveries, which the inbox skips. A stop during the read abandons it: no partition is consumed then.
/// </summary>
internal sealed class DatabaseOffsetReader<TDbContext> : IAssignedOffsets
    where TDbContext : DbContext
{
    private static readonly ResiliencePropertyKey<string> Partitions = new("inbox.kafka.partitions");
    private static readonly Dictionary<TopicPartition, long> None = [];

    private readonly IServiceScopeFactory _scopes;
    private readonly string _consumer;
    private readonly ILogger _logger;
    private readonly CancellationToken _stopping;
    private readonly ResiliencePipeline _reads;

    public DatabaseOffsetReader(IServiceScopeFactory scopes, string consumer, TimeSpan retryDelay, TimeProvider time, ILogger logger, CancellationToken stopping)
    {
        _scopes = scopes;
        _consumer = consumer;
        _logger = logger;
        _stopping = stopping;
        _reads = Backoff.Build(
            time,
            retryDelay,
            TimeSpan.FromSeconds(30),
            static (_, context) => !context.CancellationToken.IsCancellationRequested,
            args => Log.DatabaseOffsetsReadFailed(logger, consumer, args.Context.Properties.GetValue(Partitions, ""), args.AttemptNumber + 1, args.RetryDelay, args.Outcome.Exception!),
            maxRetries: 2);
    }

    public IReadOnlyDictionary<TopicPartition, long> Read(List<TopicPartition> partitions)
    {
        var described = string.Join(", ", partitions);
        var context = ResilienceContextPool.Shared.Get(_stopping);
        context.Properties.Set(Partitions, described);
        try
        {
            return _reads.Execute(
                static (context, s) =>
                {
                    using var scope = s.Self._scopes.CreateScope();
                    var db = scope.ServiceProvider.GetRequiredService<TDbContext>();
                    var topics = s.Partitions.Select(p => p.Topic).Distinct().ToList();
                    return DatabaseOffsets.ReadAsync(db, s.Self._consumer, topics, context.CancellationToken).GetAwaiter().GetResult();
                },
                context,
                (Self: this, Partitions: partitions));
        }
        catch (Exception) when (_stopping.IsCancellationRequested)
        {
            // Stopping: no partition will be consumed, so no offset is needed. Not an error.
            Log.DatabaseOffsetsReadCancelled(_logger, _consumer, described);
            return None;
        }
        catch (Exception exception)
        {
            Log.DatabaseOffsetsUnread(_logger, _consumer, described, exception);
            return None;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }
}
