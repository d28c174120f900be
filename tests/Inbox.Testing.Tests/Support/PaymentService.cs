using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Inbox.Testing.Tests.Support;

/// <summary>A payment service on a real port, counting the charges it was sent.</summary>
public sealed class PaymentService : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _charges;

    private PaymentService(WebApplication app) => _app = app;

    public Uri Address => new(_app.Urls.First() + "/");

    public int Charges => Volatile.Read(ref _charges);

    public static async Task<PaymentService> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var service = new PaymentService(app);
        app.MapPost("/charges", () =>
        {
            Interlocked.Increment(ref service._charges);
            return Results.Ok();
        });
        await app.StartAsync();
        return service;
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
