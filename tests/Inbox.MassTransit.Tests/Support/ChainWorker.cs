using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Inbox.MassTransit.Tests.Support;

/// <summary>
/// Service A of the chain as a process of its own, so that a test can kill it with SIGKILL: an inboxed consumer of
/// orders that ships each one and publishes OrderShipped through the outbox. Started by the test as
/// <c>dotnet Inbox.MassTransit.Tests.dll chain-a &lt;amqp uri&gt; &lt;connection&gt; &lt;orders queue&gt; &lt;dispatch&gt; [one-round-trip]</c>;
/// prints "ready" once its bus has started. (The test assembly is the worker, so both share one model and consumer.)
/// </summary>
public static class ChainWorker
{
    public static async Task<int> Main(string[] args)
    {
        // An optional last argument, "one-round-trip", runs the inbox with OneRoundTrip, looked up only when redelivered.
        if (args is not ["chain-a", var broker, var connection, var orders, var dispatch, .. var more] || more is not ([] or ["one-round-trip"]))
        {
            await Console.Error.WriteLineAsync("usage: chain-a <amqp uri> <connection> <orders queue> <dispatch> [one-round-trip]");
            return 2;
        }

        await using var host = await TestHost.StartRabbitMqAsync(
            TestHost.Postgres(connection),
            (context, cfg) =>
            {
                cfg.UseInbox(context);
                cfg.ReceiveEndpoint(orders, e => OutboxChain.ShipAndAnnounce(context, e));
            },
            configureServices: services => services.Configure<InboxOptions>(o =>
            {
                o.OneRoundTrip = more is ["one-round-trip"];
                o.OneRoundTripLookup = InboxLookup.WhenRedelivered;
            }),
            registration: x =>
            {
                x.AddConsumer<ShipAndAnnounceConsumer>();
                x.AddInboxOutbox<ShopDbContext>(o => o.DispatchEnabled = bool.Parse(dispatch));
            },
            broker: new Uri(broker));
        Console.WriteLine("ready");
        await host.Host.WaitForShutdownAsync();
        return 0;
    }
}
