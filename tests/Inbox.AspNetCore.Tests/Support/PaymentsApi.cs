using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Inbox.AspNetCore.Tests.Support;

/// <summary>
/// A minimal API on a real Kestrel server on a loopback port, with a payments endpoint that requires an
/// Idempotency-Key. The user is whoever the X-User header names (a stand-in for authentication).
/// </summary>
public sealed class PaymentsApi : IAsyncDisposable
{
    private readonly WebApplication _app;

    private PaymentsApi(WebApplication app, HttpClient client)
    {
        _app = app;
        Client = client;
    }

    public HttpClient Client { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>Gets what makes the endpoint throw, set by a test.</summary>
    public EndpointFaults Faults => _app.Services.GetRequiredService<EndpointFaults>();

    public static async Task<PaymentsApi> StartAsync(
        Action<DbContextOptionsBuilder> database,
        Action<IdempotencyKeyOptions>? configure = null,
        Action<IServiceCollection>? services = null,
        bool useMiddleware = true,
        bool addInbox = true,
        Action<WebApplication>? beforeKeys = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddDbContext<PaymentsDbContext>(database);
        if (addInbox)
        {
            builder.Services.AddInbox<PaymentsDbContext>(o => o.PurgeInterval = TimeSpan.FromMinutes(1));
        }

        builder.Services.AddIdempotencyKeys<PaymentsDbContext>(configure);
        builder.Services.AddSingleton<EndpointFaults>();
        builder.Services.AddControllers().AddApplicationPart(typeof(RefundsController).Assembly);
        services?.Invoke(builder.Services);

        var app = builder.Build();
        app.Use((context, next) =>
        {
            if (context.Request.Headers["X-User"] is [{ Length: > 0 } user])
            {
                context.User = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, user)], "test"));
            }

            return next(context);
        });
        beforeKeys?.Invoke(app);
        if (useMiddleware)
        {
            app.UseIdempotencyKeys();
        }

        app.MapPost("/payments", async (PaymentRequest request, PaymentsDbContext db, EndpointFaults faults, HttpContext context) =>
        {
            if (request.Amount > 1_000)
            {
                return Results.Problem("Insufficient funds.", statusCode: StatusCodes.Status402PaymentRequired);
            }

            var payment = new Payment { OrderId = request.OrderId, Amount = request.Amount, User = context.User.Identity?.Name ?? context.User.FindFirstValue(ClaimTypes.NameIdentifier) };
            db.Payments.Add(payment);

            // Saved here for the generated ID in Location: still inside the key's transaction.
            await db.SaveChangesAsync();
            faults.Wrote(request);
            if (request.Announce)
            {
                db.Outbox().Add(new OutboxMessage("test", "payments", System.Text.Encoding.UTF8.GetBytes($"{{\"paymentId\":{payment.Id}}}")));
            }

            if (request.DelayMs > 0)
            {
                await Task.Delay(request.DelayMs);
            }

            if (faults.Throw(request) is { } failure)
            {
                throw failure;
            }

            return request.OrderId.StartsWith("unavailable", StringComparison.Ordinal)
                ? Results.StatusCode(StatusCodes.Status503ServiceUnavailable)
                : Results.Created($"/payments/{payment.Id}", payment);
        }).RequireIdempotencyKey();
        app.MapControllers();

        await using (var scope = app.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<PaymentsDbContext>().Database.EnsureCreatedAsync();
        }

        await app.StartAsync();
        var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        return new PaymentsApi(app, client);
    }

    public async Task<T> QueryAsync<T>(Func<PaymentsDbContext, Task<T>> query)
    {
        await using var scope = _app.Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<PaymentsDbContext>());
    }

    public Task<int> PaymentCountAsync() => QueryAsync(db => db.Payments.CountAsync());

    public Task<int> OutboxCountAsync() => QueryAsync(db => db.Database.SqlQueryRaw<int>("SELECT CAST(count(*) AS integer) AS \"Value\" FROM outbox_messages").SingleAsync());

    public Task<int> KeyCountAsync() => QueryAsync(db => db.Database.SqlQueryRaw<int>("SELECT CAST(count(*) AS integer) AS \"Value\" FROM idempotency_keys").SingleAsync());

    /// <summary>POSTs a payment with an Idempotency-Key (none when null) and, optionally, a user.</summary>
    public Task<HttpResponseMessage> PayAsync(PaymentRequest request, string? key, string? user = null, string path = "/payments")
    {
        var message = new HttpRequestMessage(HttpMethod.Post, path) { Content = System.Net.Http.Json.JsonContent.Create(request) };
        if (key is not null)
        {
            message.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        }

        if (user is not null)
        {
            message.Headers.Add("X-User", user);
        }

        return Client.SendAsync(message);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>
/// Makes the payments endpoint throw for the requests a test chooses, after it wrote its payment, and tells a test when
/// a request has written it (so its key is in flight), instead of a sleep that hopes it has.
/// </summary>
public sealed class EndpointFaults
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, TaskCompletionSource> _written = new();

    public Func<PaymentRequest, Exception?> Throw { get; set; } = _ => null;

    /// <summary>Completes when a request for <paramref name="orderId"/> has saved its payment inside its key's transaction.</summary>
    public Task WrittenAsync(string orderId) => Written(orderId).Task.WaitAsync(TimeSpan.FromSeconds(30));

    internal void Wrote(PaymentRequest request) => Written(request.OrderId).TrySetResult();

    private TaskCompletionSource Written(string orderId)
        => _written.GetOrAdd(orderId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}

/// <summary>An outbox transport that acknowledges everything and remembers each message ID it was given.</summary>
public sealed class RecordingTransport : IOutboxTransport
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _sent = new();

    public IReadOnlyCollection<string> Sent => _sent;

    public Task<IReadOnlyList<OutboxDelivery>> SendAsync(IReadOnlyList<OutboxEnvelope> messages, CancellationToken cancellationToken)
    {
        foreach (var message in messages)
        {
            _sent.Enqueue(message.MessageId);
        }

        return Task.FromResult<IReadOnlyList<OutboxDelivery>>([.. messages.Select(_ => OutboxDelivery.Sent)]);
    }
}
