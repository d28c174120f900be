using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Inbox.Kafka.Tests.Infrastructure;

/// <summary>
/// Service A of the chain as a process of its own, so that a test can kill it with SIGKILL: an inboxed Kafka consumer
/// of orders that sends an invoice per new order through its outbox. Started by the test as
/// <c>dotnet Inbox.Kafka.Tests.dll chain-a &lt;bootstrap&gt; &lt;connection&gt; &lt;orders&gt; &lt;invoices&gt; &lt;group&gt; &lt;dispatch&gt; [database-offsets] [delay-ms=&lt;n&gt;]</c>;
/// prints "ready" once its host has started. (The test assembly is the worker, so both share one model and handler.)
/// </summary>
public static class ChainWorker
{
    public static async Task<int> Main(string[] args)
    {
        // Optional arguments: "database-offsets" keeps the offsets in the database; "delay-ms=<n>" slows each record, so
        // that a test killing the worker mid-stream does not depend on the machine's speed. "-" for invoices sends none.
        const string DelayPrefix = "delay-ms=";
        if (args is not ["chain-a", var bootstrap, var connection, var orders, var invoices, var group, var dispatch, .. var more]
            || more.Any(a => a != "database-offsets" && !(a.StartsWith(DelayPrefix, StringComparison.Ordinal) && int.TryParse(a[DelayPrefix.Length..], out _))))
        {
            await Console.Error.WriteLineAsync("usage: chain-a <bootstrap> <connection> <orders> <invoices|-> <group> <dispatch> [database-offsets] [delay-ms=<n>]");
            return 2;
        }

        var delay = more.Where(a => a.StartsWith(DelayPrefix, StringComparison.Ordinal)).Select(a => int.Parse(a[DelayPrefix.Length..])).LastOrDefault();

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddDbContext<TestDbContext>(o => o.UseNpgsql(connection));
        builder.Services.AddInbox<TestDbContext>(o => o.PurgeEnabled = false);
        builder.Services.AddSingleton(new HandlerProbe { InvoiceTopic = invoices == "-" ? null : invoices, Delay = TimeSpan.FromMilliseconds(delay) });
        builder.Services.AddInboxKafkaConsumer<TestDbContext, OrderPlaced, OrderPlacedHandler>(o =>
        {
            o.Topics = [orders];
            o.Consumer = new Confluent.Kafka.ConsumerConfig
            {
                BootstrapServers = bootstrap,
                GroupId = group,
                AutoOffsetReset = Confluent.Kafka.AutoOffsetReset.Earliest,
                SessionTimeoutMs = 2_000,
                HeartbeatIntervalMs = 200,
                AutoCommitIntervalMs = 500,
            };
            o.RetryDelay = TimeSpan.FromMilliseconds(100);
            o.StoreOffsetsInDatabase = more.Contains("database-offsets");
        });
        builder.Services.AddOutbox<TestDbContext>(o =>
        {
            o.UseKafka(new Confluent.Kafka.ProducerConfig { BootstrapServers = bootstrap, LingerMs = 5 });
            o.DispatchEnabled = bool.Parse(dispatch);
        });
        using var host = builder.Build();
        await host.StartAsync();
        Console.WriteLine("ready");
        await host.WaitForShutdownAsync();
        return 0;
    }
}
