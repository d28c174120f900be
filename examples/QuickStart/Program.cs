// The quick start: no servers. A SQLite file and MassTransit's in-memory transport; a few thousand orders, some
// sent twice (right away, or much later), each shipped exactly once, and each shipment's event published through the
// outbox to a second consumer that notifies the customer exactly once. Exit code 0 only when the numbers add up.
using System.Diagnostics;
using System.Diagnostics.Metrics;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using QuickStart;

const int UniqueOrders = 3000;
const int BackToBack = 150;   // sent again right behind the original
const int Late = 150;         // sent again after everything else

var databaseFile = Path.Combine(Path.GetTempPath(), "inbox-quickstart.db");
foreach (var file in new[] { databaseFile, databaseFile + "-wal", databaseFile + "-shm" })
{
    File.Delete(file);
}

var builder = Host.CreateApplicationBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);

// 1. The application's DbContext, and an inbox for it.
builder.Services.AddDbContext<ShopDbContext>(o => o.UseSqlite($"Data Source={databaseFile};Default Timeout=60"));
builder.Services.AddInbox<ShopDbContext>();

// 2. MassTransit with the inbox on every endpoint, and the outbox for what the consumers publish.
builder.Services.AddMassTransit(x =>
{
    x.AddConsumer<ShipOrderConsumer>();
    x.AddConsumer<NotifyCustomerConsumer>();
    x.AddInboxOutbox<ShopDbContext>();
    x.UsingInMemory((context, cfg) =>
    {
        cfg.UseInbox(context);
        cfg.ConfigureEndpoints(context);
    });
});

using var host = builder.Build();
await using (var scope = host.Services.CreateAsyncScope())
{
    var db = scope.ServiceProvider.GetRequiredService<ShopDbContext>();
    await db.Database.EnsureCreatedAsync();
    await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;");
}

// Count what the inbox did from its own metrics (meter "Inbox"), and every delivery from MassTransit.
long processed = 0, duplicates = 0, delivered = 0;
using var meters = new MeterListener();
meters.InstrumentPublished = (instrument, listener) =>
{
    if (instrument.Meter.Name == "Inbox")
    {
        listener.EnableMeasurementEvents(instrument);
    }
};
meters.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
{
    if (instrument.Name == "inbox.messages.processed")
    {
        Interlocked.Add(ref processed, value);
    }
    else if (instrument.Name == "inbox.messages.duplicate")
    {
        Interlocked.Add(ref duplicates, value);
    }
});
meters.Start();

await host.StartAsync();
var bus = host.Services.GetRequiredService<IBusControl>();
bus.ConnectReceiveObserver(new DeliveryCounter(() => Interlocked.Increment(ref delivered)));

var orders = Enumerable.Range(1, UniqueOrders).Select(i => (OrderId: $"order-{i:D5}", MessageId: NewId.NextGuid())).ToList();
var sends = new List<(string OrderId, Guid MessageId)>();
for (var i = 0; i < orders.Count; i++)
{
    sends.Add(orders[i]);
    if (i % (UniqueOrders / BackToBack) == 0)
    {
        sends.Add(orders[i]);
    }
}

sends.AddRange(orders.Take(Late));
var total = sends.Count;
Console.WriteLine($"Publishing {total} orders: {UniqueOrders} unique, {BackToBack} duplicates back-to-back, {Late} late duplicates.");

var watch = Stopwatch.StartNew();
foreach (var (orderId, messageId) in sends)
{
    await bus.Publish(new OrderPlaced(orderId), c => c.MessageId = messageId);
}

// Every order delivery, and one OrderShipped event per unique order.
var expected = total + UniqueOrders;
var deadline = TimeSpan.FromSeconds(60);
while (Interlocked.Read(ref delivered) < expected && watch.Elapsed < deadline)
{
    Console.Write($"\r  delivered {Interlocked.Read(ref delivered),5}/{expected}  processed {Interlocked.Read(ref processed),5}  duplicates skipped {Interlocked.Read(ref duplicates),4}");
    await Task.Delay(250);
}

await host.StopAsync();
Console.WriteLine($"\r  delivered {delivered,5}/{expected}  processed {processed,5}  duplicates skipped {duplicates,4}  in {watch.Elapsed.TotalSeconds:0.0}s");

int shipments, notifications, notifiedOrders, pending;
await using (var scope = host.Services.CreateAsyncScope())
{
    var db = scope.ServiceProvider.GetRequiredService<ShopDbContext>();
    shipments = await db.Shipments.CountAsync();
    notifications = await db.Notifications.CountAsync();
    notifiedOrders = await db.Notifications.Select(n => n.OrderId).Distinct().CountAsync();
    pending = await db.Database.SqlQueryRaw<int>("SELECT count(*) AS \"Value\" FROM outbox_messages").SingleAsync();
}

var ok = shipments == UniqueOrders && notifications == UniqueOrders && notifiedOrders == UniqueOrders && pending == 0
    && processed == 2 * UniqueOrders && duplicates == total - UniqueOrders;
Console.WriteLine();
Console.WriteLine($"  {"delivered",-26}{delivered,6}   (orders and events)");
Console.WriteLine($"  {"processed",-26}{processed,6}   (orders and events)");
Console.WriteLine($"  {"duplicates skipped",-26}{duplicates,6}");
Console.WriteLine($"  {"shipments",-26}{shipments,6}");
Console.WriteLine($"  {"notifications",-26}{notifications,6}   (from OrderShipped, sent via the outbox)");
Console.WriteLine($"  {"outbox rows left",-26}{pending,6}");
Console.WriteLine($"  {"unique IDs",-26}{UniqueOrders,6}");
Console.WriteLine($"  {"each == unique IDs?",-26}{(ok ? "yes" : "NO"),6}");
Console.WriteLine();
Console.WriteLine($"Database: {databaseFile}");
return ok ? 0 : 1;

/// <summary>Counts every message the bus received, whatever the inbox did with it.</summary>
internal sealed class DeliveryCounter(Action delivered) : IReceiveObserver
{
    public Task PreReceive(ReceiveContext context) => Task.CompletedTask;

    public Task PostReceive(ReceiveContext context)
    {
        delivered();
        return Task.CompletedTask;
    }

    public Task PostConsume<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType)
        where T : class => Task.CompletedTask;

    public Task ConsumeFault<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType, Exception exception)
        where T : class => Task.CompletedTask;

    public Task ReceiveFault(ReceiveContext context, Exception exception) => Task.CompletedTask;
}
