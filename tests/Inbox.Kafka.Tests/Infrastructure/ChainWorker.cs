using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Inbox.Kafka.Tests.Infrastructure;

/// <summary>
/// Service A of the chain as a process of its own, so that a test can kill it with SIGKILL: an inboxed Kafka consumer
/// of orders that sends an invoice per new order through its outbox. Started by the test as
/// <c>dotnet Inbox.Kafka.Tests.dll chain-a &lt;bootstrap&gt; &lt;connection&gt; &lt;orders&gt; &lt;invoices&gt; &lt;group&gt; &lt;dispatch&gt; [database-offsets]</c>;
/// prints "ready" once its host has started. (The test assembly is the worker, so both share one model and handler.)
/// </summary>
public static class ChainWorker
{
    public static async Task<int> Main(string[] args)
    {
        // An optional last argument, "database-offsets", keeps the offsets in the database; "-" for invoices sends none.
        if (args is not ["chain-a", var bootstrap, var connection, var orders, var invoices, var group, var dispatch, .. var more] || more.Length > 1)
        {
            await Console.Error.WriteLineAsync("usage: chain-a <bootstrap> <connection> <orders> <invoices|-> <group> <dispatch> [database-offsets]");
            return 2;
        }

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddDbContext<TestDbContext>(o => o.UseNpgsql(connection));
        builder.Services.AddInbox<TestDbContext>(o => o.PurgeEnabled = false);
        builder.Services.AddSingleton(new HandlerProbe { InvoiceTopic = invoices == "-" ? null : invoices });
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
            o.StoreOffsetsInDatabase = more is ["database-offsets"];
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
