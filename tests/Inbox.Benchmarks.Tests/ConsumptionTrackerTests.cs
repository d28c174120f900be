using Inbox.Benchmarks.Scenarios.Messaging;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Inbox.Benchmarks.Tests;

/// <summary>The tracker that times the MassTransit scenarios counts each delivery once, a faulted one included.</summary>
public sealed class ConsumptionTrackerTests
{
    [Fact]
    public async Task FaultedDeliveries_CountOnce_TheRunEndsOnlyWhenEveryDeliveryIsSettled()
    {
        var tracker = new ConsumptionTracker();
        var broker = await Inbox.TestSupport.Servers.RabbitMqAsync();
        var credentials = broker.UserInfo.Split(':');
        var queue = $"tracked-{Guid.NewGuid():N}"[..16];
        await using var provider = new ServiceCollection()
            .AddMassTransit(x =>
            {
                x.AddConsumer<SlowOrFaultingConsumer>();
                x.UsingRabbitMq((context, cfg) =>
                {
                    cfg.Host(broker.Host, (ushort)broker.Port, "/", h =>
                    {
                        h.Username(Uri.UnescapeDataString(credentials[0]));
                        h.Password(Uri.UnescapeDataString(credentials[1]));
                    });
                    cfg.ReceiveEndpoint(queue, e =>
                    {
                        e.ConcurrentMessageLimit = 1;
                        e.ConfigureConsumer<SlowOrFaultingConsumer>(context);
                    });
                });
            })
            .BuildServiceProvider();
        var bus = provider.GetRequiredService<IBusControl>();
        bus.ConnectReceiveObserver(tracker);
        await bus.StartAsync();
        try
        {
            tracker.Watch(queue, 11);
            var endpoint = await bus.GetSendEndpoint(new Uri($"queue:{queue}"));

            // Five whose consumer throws, five that take a while, and one body MassTransit cannot read.
            for (var i = 0; i < 10; i++)
            {
                await endpoint.Send(new OrderPlaced(i < 5 ? "fault" : "slow"));
            }

            await using (var connection = await new global::RabbitMQ.Client.ConnectionFactory { Uri = broker }.CreateConnectionAsync())
            await using (var channel = await connection.CreateChannelAsync())
            {
                var props = new global::RabbitMQ.Client.BasicProperties { ContentType = "application/vnd.masstransit+json", MessageId = Guid.NewGuid().ToString() };
                await channel.BasicPublishAsync("", queue, false, props, System.Text.Encoding.UTF8.GetBytes("{ not json"));
            }

            Assert.True(await tracker.WaitAsync(TimeSpan.FromSeconds(30)));

            // A consumer's exception ends as a normal receive (the message is moved to the error queue): consumed.
            // The unreadable body faults the receive, and RabbitMQ's redelivery that moves it must not count again.
            await Task.Delay(1_000);
            Assert.Equal(1, tracker.Faulted);
            Assert.Equal(10, tracker.Consumed);
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    private sealed class SlowOrFaultingConsumer : IConsumer<OrderPlaced>
    {
        public async Task Consume(ConsumeContext<OrderPlaced> context)
        {
            if (context.Message.OrderKey == "fault")
            {
                throw new InvalidOperationException("faults on purpose");
            }

            await Task.Delay(100);
        }
    }
}
