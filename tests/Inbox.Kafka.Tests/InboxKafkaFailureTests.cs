using Confluent.Kafka;
using Inbox.Kafka.Tests.Infrastructure;
using Inbox.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Inbox.Kafka.Tests;

/// <summary>
/// A consumer that cannot go on says so: it fails its hosted service, so the host applies its
/// BackgroundServiceExceptionBehavior, and the health check reports it Unhealthy with the reason. No zombie that looks
/// alive and consumes nothing; nothing dead-lettered because a server was down.
/// </summary>
public sealed class InboxKafkaFailureTests(ITestOutputHelper output) : KafkaTestBase(output)
{
    [Fact]
    public async Task FatalKafkaError_StopsTheHostByDefault_AndHealthSaysWhy()
    {
        await using var broker = await StartBrokerAsync(2, faultInjection: true);
        await ProduceAsync(broker, Topic, Stream(50, 0));
        await using var consumer = await StartConsumerAsync(broker, "c1", services: s => s.AddHealthChecks().AddInboxKafka());
        await WaitForEffectsAsync(50, TimeSpan.FromSeconds(30), "the consumer to be under way");

        KafkaMockCluster.InjectFatalError(consumer.Service.Consumer!, ErrorCode.FencedInstanceId, "injected by the test");

        await Eventually.Until(() => Task.FromResult(consumer.Lifetime.ApplicationStopping.IsCancellationRequested), TimeSpan.FromSeconds(30), () => Task.FromResult("still running"), "the host to stop");
        var report = await consumer.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        Output.WriteLine(report.Entries["inbox-kafka"].Description);
        Assert.Equal(HealthStatus.Unhealthy, report.Status);
        Assert.Contains("a fatal Kafka error", report.Entries["inbox-kafka"].Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FatalKafkaError_WithIgnoreBehaviour_HostRunsOn_ButHealthIsUnhealthy()
    {
        await using var broker = await StartBrokerAsync(2, faultInjection: true);
        await ProduceAsync(broker, Topic, Stream(50, 0));
        await using var consumer = await StartConsumerAsync(broker, "c1", services: s =>
        {
            s.AddHealthChecks().AddInboxKafka();
            s.Configure<HostOptions>(o => o.BackgroundServiceExceptionBehavior = BackgroundServiceExceptionBehavior.Ignore);
        });
        await WaitForEffectsAsync(50, TimeSpan.FromSeconds(30), "the consumer to be under way");
        var health = consumer.Services.GetRequiredService<HealthCheckService>();
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync()).Status);

        KafkaMockCluster.InjectFatalError(consumer.Service.Consumer!, ErrorCode.FencedInstanceId, "injected by the test");

        await Eventually.Until(
            async () => (await health.CheckHealthAsync()).Status == HealthStatus.Unhealthy,
            TimeSpan.FromSeconds(30),
            async () => (await health.CheckHealthAsync()).Entries["inbox-kafka"].Description ?? "",
            "the health check to report the stopped consumer");
        Assert.False(consumer.Lifetime.ApplicationStopping.IsCancellationRequested);
    }

    [Fact]
    public async Task DatabaseDownLongerThanTheLimit_ConsumerStopsTheHost_NothingDeadLettered_ThenAllProcessedOnceItIsBack()
    {
        await using var server = await StartOwnPostgresAsync();

        await using var broker = await StartBrokerAsync(2);
        await broker.CreateTopicAsync(Topic + ".dlt", 1);
        var sent = Stream(200, 0.1);
        await ProduceAsync(broker, Topic, sent);
        await server.StopAsync();

        var first = await StartConsumerAsync(broker, "c1", connectionString: server.ConnectionString, services: s =>
        {
            s.AddHealthChecks().AddInboxKafka();
            s.Configure<InboxOptions>(o => o.StoreOutageLimit = TimeSpan.FromSeconds(3));
        });
        await Eventually.Until(() => Task.FromResult(first.Lifetime.ApplicationStopping.IsCancellationRequested), TimeSpan.FromSeconds(60), () => Task.FromResult("still running"), "the consumer to give up after the limit");
        var report = await first.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        Assert.Equal(HealthStatus.Unhealthy, report.Status);
        Output.WriteLine(report.Entries["inbox-kafka"].Description);
        await first.DisposeAsync();

        await server.StartAgainAsync();
        await using var second = await StartConsumerAsync(broker, "c2", connectionString: server.ConnectionString);
        var unique = sent.Select(r => r.Id).Distinct().Count();
        await Eventually.Until(
            async () => await CountEffectsAsync(server.ConnectionString) == unique,
            TimeSpan.FromSeconds(60),
            async () => $"{await CountEffectsAsync(server.ConnectionString)} of {unique}",
            "every message once the database is back");
        await second.StopAsync();
        Assert.Empty(broker.ReadAll(Topic + ".dlt", 1, TimeSpan.FromSeconds(3)));
        Assert.Equal(0, first.Logs.Count(112));
    }
}
