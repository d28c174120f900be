using MassTransit;
using Microsoft.AspNetCore.Routing;

namespace Inbox.MassTransit.Tests.Support;

/// <summary>
/// The two services of the outbox tests on RabbitMQ: A ships each order and publishes OrderShipped through the outbox
/// (<see cref="ShipAndAnnounceConsumer"/>); B writes one notification per event, inboxed (<see cref="NotifyCustomerConsumer"/>).
/// </summary>
public static class OutboxChain
{
    public static void ShipAndAnnounce(IBusRegistrationContext context, IRabbitMqReceiveEndpointConfigurator e)
    {
        e.PrefetchCount = 32;
        e.ConcurrentMessageLimit = 8;
        e.ConfigureConsumer<ShipAndAnnounceConsumer>(context);
    }

    public static void Notify(IBusRegistrationContext context, IRabbitMqReceiveEndpointConfigurator e)
    {
        e.PrefetchCount = 32;
        e.ConcurrentMessageLimit = 8;
        e.ConfigureConsumer<NotifyCustomerConsumer>(context);
    }

    /// <summary>Starts service B on <paramref name="queue"/>; with <paramref name="outbox"/>, its bus outbox too.</summary>
    public static Task<TestHost> StartNotifierAsync(
        string connectionString, string queue, Uri? broker = null, bool outbox = true, Action<IEndpointRouteBuilder>? endpoints = null)
        => TestHost.StartRabbitMqAsync(
            TestHost.Postgres(connectionString),
            (context, cfg) =>
            {
                cfg.UseInbox(context);
                cfg.ReceiveEndpoint(queue, e => Notify(context, e));
            },
            registration: x =>
            {
                x.AddConsumer<NotifyCustomerConsumer>();
                if (outbox)
                {
                    x.AddInboxOutbox<ShopDbContext>();
                }
            },
            endpoints: endpoints,
            broker: broker);
}
