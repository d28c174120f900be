using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;

namespace Inbox.RabbitMQ.Tests.Support;

/// <summary>
/// The consumer as a process of its own, so that a test can kill it with SIGKILL. Started by the test as
/// <c>dotnet Inbox.RabbitMQ.Tests.dll consume &lt;broker&gt; &lt;connection&gt; &lt;queue&gt; &lt;handler delay ms&gt; [batch size]</c>
/// (a batch size above 1: batch mode, two batches at once; a last argument <c>one-round-trip</c>: <c>InboxOptions.OneRoundTrip</c>
/// with the lookup for redeliveries only, whose implicit commit a kill can follow before the acknowledgement),
/// or as service A of a chain, which also sends an <see cref="InvoiceCreated"/> per new order to a second queue through
/// the RabbitMQ outbox, dispatched by this process or (dispatch false) only written:
/// <c>dotnet Inbox.RabbitMQ.Tests.dll chain-a &lt;broker&gt; &lt;connection&gt; &lt;queue&gt; &lt;handler delay ms&gt; &lt;invoice queue&gt; &lt;dispatch&gt;</c>.
/// Prints "ready" once its host has started. (The test assembly is the worker, so both share one model and handler.)
/// </summary>
public static class ConsumerWorker
{
    public static async Task<int> Main(string[] args)
    {
        switch (args)
        {
            case ["consume", var broker, var connection, var queue, var delay]:
                return await RunAsync(broker, connection, queue, delay, invoices: null, dispatch: false, batchSize: 1);
            case ["consume", var broker, var connection, var queue, var delay, var batch] when int.TryParse(batch, out var batchSize) && batchSize >= 1:
                return await RunAsync(broker, connection, queue, delay, invoices: null, dispatch: false, batchSize);
            case ["consume", var broker, var connection, var queue, var delay, var batch, "one-round-trip"] when int.TryParse(batch, out var batchSize) && batchSize >= 1:
                return await RunAsync(broker, connection, queue, delay, invoices: null, dispatch: false, batchSize, oneRoundTrip: true);
            case ["chain-a", var broker, var connection, var queue, var delay, var invoices, var dispatch] when bool.TryParse(dispatch, out var dispatching):
                return await RunAsync(broker, connection, queue, delay, invoices, dispatching, batchSize: 1);
            default:
                await Console.Error.WriteLineAsync(
                    "usage: consume <broker> <connection> <queue> <handler delay ms> [batch size [one-round-trip]]\n" +
                    "       chain-a <broker> <connection> <queue> <handler delay ms> <invoice queue> <dispatch: true|false>");
                return 2;
        }
    }

    private static async Task<int> RunAsync(string broker, string connection, string queue, string delay, string? invoices, bool dispatch, int batchSize, bool oneRoundTrip = false)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddDbContext<BillingDbContext>(o => o.UseNpgsql(connection));
        builder.Services.AddInbox<BillingDbContext>(o =>
        {
            o.PurgeEnabled = false;
            o.OneRoundTrip = oneRoundTrip;
            o.OneRoundTripLookup = InboxLookup.WhenRedelivered;
        });
        builder.Services.AddSingleton(new HandlerProbe
        {
            Delay = TimeSpan.FromMilliseconds(int.Parse(delay, System.Globalization.CultureInfo.InvariantCulture)),
            InvoiceQueue = invoices,
        });
        builder.Services.AddInboxRabbitMqConsumer<BillingDbContext, OrderPlaced, OrderPlacedHandler>(o =>
        {
            o.Connection = new ConnectionFactory { Uri = new Uri(broker) };
            o.Queue = queue;
            o.MaxConcurrency = batchSize > 1 ? 2 : 8;
            o.BatchSize = batchSize;
            o.PrefetchCount = (ushort)Math.Max(32, 3 * batchSize);
        });
        if (invoices is not null)
        {
            builder.Services.AddOutbox<BillingDbContext>(o =>
            {
                o.UseRabbitMq(new ConnectionFactory { Uri = new Uri(broker) });
                o.DispatchEnabled = dispatch;
            });
        }

        using var host = builder.Build();
        await host.StartAsync();
        Console.WriteLine("ready");
        await host.WaitForShutdownAsync();
        return 0;
    }
}
