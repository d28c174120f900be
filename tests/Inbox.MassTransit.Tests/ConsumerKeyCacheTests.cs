using Inbox.MassTransit.Middleware;
using Inbox.MassTransit.Tests.Support;
using MassTransit;

namespace Inbox.MassTransit.Tests;

public sealed class ConsumerKeyCacheTests
{
    [Fact]
    public void For_AnAddress_IsTheQueueAndTheConsumerType()
    {
        var sut = new ConsumerKeyCache<ShipOrderConsumer>(new InboxConsumeOptions());

        Assert.Equal($"orders/{TypeCache<ShipOrderConsumer>.ShortName}", sut.For(new Uri("rabbitmq://localhost/vhost/orders?temporary=false")));
    }

    /// <summary>
    /// Deliveries on many threads ask for the key while the cached address changes back and forth: each must get the
    /// key of its own address, never the other address's key or none.
    /// </summary>
    [Fact]
    public void For_TwoAddressesFromManyThreadsAtOnce_EachGetsTheKeyOfItsOwnAddress()
    {
        var sut = new ConsumerKeyCache<ShipOrderConsumer>(new InboxConsumeOptions());
        (Uri Address, string Key)[] endpoints =
        [
            (new Uri("rabbitmq://localhost/orders"), $"orders/{TypeCache<ShipOrderConsumer>.ShortName}"),
            (new Uri("rabbitmq://localhost/invoices"), $"invoices/{TypeCache<ShipOrderConsumer>.ShortName}"),
        ];
        var wrong = 0;

        Parallel.For(0, 4, thread =>
        {
            for (var i = 0; i < 2_000_000; i++)
            {
                var (address, key) = endpoints[(i + thread) % 2];
                if (sut.For(address) != key)
                {
                    Interlocked.Increment(ref wrong);
                }
            }
        });

        Assert.Equal(0, wrong);
    }
}
