using System.Text;
using Confluent.Kafka;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Inbox.Testing.Tests.Support;

/// <summary>Right: writes the order and its event through the unit's DbContext.</summary>
public sealed class PlaceOrderHandler(ShopDbContext db)
{
    public Task HandleAsync(OrderPlaced message, CancellationToken cancellationToken)
    {
        db.Orders.Add(new Order { OrderId = message.OrderId, Amount = message.Amount });
        db.Outbox().Add(new OutboxMessage("test", "shipping", Encoding.UTF8.GetBytes(message.OrderId)) { PartitionKey = message.OrderId });
        return Task.CompletedTask;
    }
}

/// <summary>Right: only reads.</summary>
public sealed class CountOrdersHandler(ShopDbContext db)
{
    public int Seen { get; private set; }

    public async Task HandleAsync(CancellationToken cancellationToken) => Seen = await db.Orders.CountAsync(cancellationToken);
}

/// <summary>Wrong: saves the order through a DbContext of its own, which commits whatever the unit does.</summary>
public sealed class SecondDbContextHandler(IServiceScopeFactory scopes)
{
    public async Task HandleAsync(OrderPlaced message, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var other = scope.ServiceProvider.GetRequiredService<ShopDbContext>();
        other.Orders.Add(new Order { OrderId = message.OrderId, Amount = message.Amount });
        await other.SaveChangesAsync(cancellationToken);
    }
}

/// <summary>Wrong: writes the order in the unit, but bumps a counter with an ExecuteUpdate on another DbContext's connection.</summary>
public sealed class CounterOutsideTheUnitHandler(ShopDbContext db, IServiceScopeFactory scopes)
{
    public async Task HandleAsync(OrderPlaced message, CancellationToken cancellationToken)
    {
        db.Orders.Add(new Order { OrderId = message.OrderId, Amount = message.Amount });
        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<ShopDbContext>().Counters
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.Value, c => c.Value + 1), cancellationToken);
    }
}

/// <summary>Wrong: opens a transaction of its own inside the unit's.</summary>
public sealed class OwnTransactionHandler(ShopDbContext db)
{
    public async Task HandleAsync(OrderPlaced message, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        db.Orders.Add(new Order { OrderId = message.OrderId, Amount = message.Amount });
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }
}

/// <summary>Wrong: charges a payment service over HTTP, which no rollback takes back.</summary>
public sealed class ChargeOverHttpHandler(ShopDbContext db, IHttpClientFactory clients)
{
    public async Task HandleAsync(OrderPlaced message, string? idempotencyKey, CancellationToken cancellationToken)
    {
        db.Orders.Add(new Order { OrderId = message.OrderId, Amount = message.Amount });
        using var request = new HttpRequestMessage(HttpMethod.Post, "charges") { Content = new StringContent(message.OrderId) };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        using var response = await clients.CreateClient("payments").SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
    }
}

/// <summary>Right: only reads the customer over HTTP before writing the order.</summary>
public sealed class LookUpOverHttpHandler(ShopDbContext db, IHttpClientFactory clients)
{
    public async Task HandleAsync(OrderPlaced message, CancellationToken cancellationToken)
    {
        using var response = await clients.CreateClient("payments").GetAsync("customers/7", cancellationToken);
        db.Orders.Add(new Order { OrderId = message.OrderId, Amount = message.Amount });
    }
}

/// <summary>The payment service, answering 200 to everything.</summary>
public sealed class PaymentServiceStub : HttpMessageHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        => Task.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.OK));
}

/// <summary>
/// Wrong without a message ID, right with the same one every time: produces the invoice with the application's Kafka
/// producer rather than through the outbox, so the crashed delivery's record goes out too.
/// </summary>
public sealed class ProduceInvoiceHandler(ShopDbContext db, IProducer<string, string> producer)
{
    public async Task HandleAsync(OrderPlaced message, string? messageId, CancellationToken cancellationToken)
    {
        db.Orders.Add(new Order { OrderId = message.OrderId, Amount = message.Amount });
        var record = new Message<string, string> { Key = message.OrderId, Value = message.OrderId, Headers = [] };
        if (messageId is not null)
        {
            record.Headers.Add("message-id", Encoding.UTF8.GetBytes(messageId));
        }

        await producer.ProduceAsync("invoices", record, cancellationToken);
    }
}

/// <summary>Where the payment service listens, for a handler that makes its own client.</summary>
public sealed record PaymentServiceAddress(Uri Uri);

/// <summary>Wrong: charges the payment service with an HttpClient of its own (made with new), which no rollback takes back.</summary>
public sealed class ChargeWithANewHttpClientHandler(ShopDbContext db, PaymentServiceAddress payments)
{
    public async Task HandleAsync(OrderPlaced message, CancellationToken cancellationToken)
    {
        db.Orders.Add(new Order { OrderId = message.OrderId, Amount = message.Amount });
        using var client = new HttpClient { BaseAddress = payments.Uri };
        using var response = await client.PostAsync("charges", new StringContent(message.OrderId), cancellationToken);
        response.EnsureSuccessStatusCode();
    }
}
