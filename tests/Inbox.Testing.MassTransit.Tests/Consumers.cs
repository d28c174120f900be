using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Inbox.Testing.MassTransit.Tests;

public sealed class ShopDbContext(DbContextOptions<ShopDbContext> options) : DbContext(options)
{
    public DbSet<Order> Orders => Set<Order>();

    protected override void OnModelCreating(ModelBuilder modelBuilder) => modelBuilder.AddInbox().AddOutbox();
}

public sealed class Order
{
    public long Id { get; set; }

    public string OrderId { get; set; } = "";
}

public sealed record PlaceOrder(string OrderId);

public sealed record OrderAccepted(string OrderId);

/// <summary>Right: writes through the unit's DbContext and publishes through the outbox.</summary>
public sealed class PlaceOrderConsumer(ShopDbContext db) : IConsumer<PlaceOrder>
{
    public Task Consume(ConsumeContext<PlaceOrder> context)
    {
        db.Orders.Add(new Order { OrderId = context.Message.OrderId });
        return context.Publish(new OrderAccepted(context.Message.OrderId));
    }
}

/// <summary>Wrong: saves the order through a DbContext of its own.</summary>
public sealed class SecondDbContextConsumer(IServiceScopeFactory scopes) : IConsumer<PlaceOrder>
{
    public async Task Consume(ConsumeContext<PlaceOrder> context)
    {
        await using var scope = scopes.CreateAsyncScope();
        var other = scope.ServiceProvider.GetRequiredService<ShopDbContext>();
        other.Orders.Add(new Order { OrderId = context.Message.OrderId });
        await other.SaveChangesAsync(context.CancellationToken);
    }
}

/// <summary>Wrong: writes the order in the unit but publishes its event on the bus itself, not through the outbox.</summary>
public sealed class PublishOnTheBusConsumer(ShopDbContext db, IBus bus) : IConsumer<PlaceOrder>
{
    public async Task Consume(ConsumeContext<PlaceOrder> context)
    {
        db.Orders.Add(new Order { OrderId = context.Message.OrderId });
        await bus.Publish(new OrderAccepted(context.Message.OrderId), context.CancellationToken);
    }
}

/// <summary>Wrong: writes the order in the unit but sends its event to a queue with the bus itself, not through the outbox.</summary>
public sealed class SendOnTheBusConsumer(ShopDbContext db, IBus bus) : IConsumer<PlaceOrder>
{
    public async Task Consume(ConsumeContext<PlaceOrder> context)
    {
        db.Orders.Add(new Order { OrderId = context.Message.OrderId });
        var billing = await bus.GetSendEndpoint(new Uri("queue:billing"));
        await billing.Send(new OrderAccepted(context.Message.OrderId), context.CancellationToken);
    }
}

/// <summary>How many times the consumer ran.</summary>
public sealed class Attempts
{
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public void Add() => Interlocked.Increment(ref _count);
}

/// <summary>Right, and counted: writes through the unit's DbContext and publishes through the outbox.</summary>
public sealed class CountedPlaceOrderConsumer(ShopDbContext db, Attempts attempts) : IConsumer<PlaceOrder>
{
    public Task Consume(ConsumeContext<PlaceOrder> context)
    {
        attempts.Add();
        db.Orders.Add(new Order { OrderId = context.Message.OrderId });
        return context.Publish(new OrderAccepted(context.Message.OrderId));
    }
}
