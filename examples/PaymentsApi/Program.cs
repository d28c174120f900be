// A payments API whose POST is safe to retry: send an Idempotency-Key, and the same key again gets the first
// response (Idempotent-Replayed: true) instead of a second payment. SQLite by default; PostgreSQL when
// ConnectionStrings__Payments is set. See README.md for curl calls.
using Inbox.AspNetCore;
using Microsoft.EntityFrameworkCore;
using PaymentsApi;

var builder = WebApplication.CreateBuilder(args);
builder.Logging.AddFilter("Microsoft.EntityFrameworkCore", LogLevel.Warning);
builder.WebHost.UseUrls(builder.Configuration["urls"] ?? "http://localhost:5080");
var postgres = builder.Configuration.GetConnectionString("Payments");
var sqliteFile = Path.Combine(Path.GetTempPath(), "inbox-payments.db");
builder.Services.AddDbContext<PaymentsDbContext>(o =>
{
    if (postgres is { Length: > 0 })
    {
        o.UseNpgsql(postgres);
    }
    else
    {
        o.UseSqlite($"Data Source={sqliteFile};Default Timeout=30");
    }
});
builder.Services.AddInbox<PaymentsDbContext>();
builder.Services.AddIdempotencyKeys<PaymentsDbContext>(o => o.DeduplicationWindow = TimeSpan.FromHours(24));

var app = builder.Build();
await using (var scope = app.Services.CreateAsyncScope())
{
    // An example: EnsureCreated. An application would use migrations (dotnet ef migrations add AddIdempotencyKeys).
    await scope.ServiceProvider.GetRequiredService<PaymentsDbContext>().Database.EnsureCreatedAsync();
}

app.UseIdempotencyKeys();

app.MapPost("/payments", async (PaymentRequest request, PaymentsDbContext db) =>
{
    if (request.Amount > 1_000)
    {
        // A business rejection: stored with the key and replayed like a success.
        return Results.Problem("Amounts over 1,000 need approval.", statusCode: StatusCodes.Status402PaymentRequired);
    }

    var payment = new Payment { OrderId = request.OrderId, Amount = request.Amount };
    db.Payments.Add(payment);

    // Optional: saved now for the generated ID in Location. Still inside the key's transaction, which commits with the
    // stored response once the endpoint returns (without this call, the inbox saves the pending changes then).
    await db.SaveChangesAsync();
    return Results.Created($"/payments/{payment.Id}", payment);
}).RequireIdempotencyKey();

app.MapGet("/payments", (PaymentsDbContext db) => db.Payments.AsNoTracking().OrderBy(p => p.Id).ToListAsync());

app.Logger.LogInformation("Payments API on {Urls}, {Store}", builder.Configuration["urls"] ?? "http://localhost:5080", postgres is { Length: > 0 } ? "PostgreSQL" : $"SQLite {sqliteFile}");
await app.RunAsync();
