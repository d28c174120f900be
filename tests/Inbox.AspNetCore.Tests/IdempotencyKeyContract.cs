using System.Net;
using System.Net.Http.Json;
using Inbox.AspNetCore.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Inbox.AspNetCore.Tests;

/// <summary>
/// What an endpoint with <c>RequireIdempotencyKey()</c> promises, on a real Kestrel server and a real HttpClient,
/// run against every store (PostgreSQL, SQLite).
/// </summary>
public abstract class IdempotencyKeyContract : IAsyncLifetime
{
    private readonly List<PaymentsApi> _apis = [];

    protected abstract Action<DbContextOptionsBuilder> Database { get; }

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync()
    {
        foreach (var api in _apis)
        {
            await api.DisposeAsync();
        }
    }

    [Fact]
    public async Task NewKey_RunsOnce_SameKeyAgain_ReplaysStatusLocationAndBody_NoSecondRow()
    {
        var api = await CreateSut();
        var request = new PaymentRequest("order-1", 25);

        using var first = await api.PayAsync(request, "key-1");
        using var second = await api.PayAsync(request, "key-1");

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal(["true"], second.Headers.GetValues("Idempotent-Replayed"));
        Assert.Equal(first.Headers.Location, second.Headers.Location);
        Assert.Equal(first.Content.Headers.ContentType, second.Content.Headers.ContentType);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await second.Content.ReadAsStringAsync());
        Assert.Equal(1, await api.PaymentCountAsync());
        Assert.Equal(1, await api.KeyCountAsync());
    }

    [Fact]
    public async Task ForgottenKey_RunsTheEndpointAgain_Once_AndTheStatusCountsTheKeys()
    {
        var api = await CreateSut();
        var request = new PaymentRequest("order-forgotten", 25);
        using (await api.PayAsync(request, "key-forgotten"))
        {
        }

        await using (var scope = api.Services.CreateAsyncScope())
        {
            var admin = scope.ServiceProvider.GetRequiredService<Inbox.Operations.IInboxAdmin<PaymentsDbContext>>();
            var status = await admin.GetStatusAsync();
            Assert.Equal(1, status.IdempotencyKeys);
            Assert.EndsWith("idempotency_keys", status.IdempotencyKeyTable, StringComparison.Ordinal);
            Assert.False(await admin.ForgetIdempotencyKeyAsync("POST /payments", "another-key", "no such key"));
            Assert.True(await admin.ForgetIdempotencyKeyAsync("POST /payments", "key-forgotten", "the payment was refunded by hand"));
        }

        using var again = await api.PayAsync(request, "key-forgotten");
        using var replayed = await api.PayAsync(request, "key-forgotten");

        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        Assert.False(again.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(["true"], replayed.Headers.GetValues("Idempotent-Replayed"));
        Assert.Equal(2, await api.PaymentCountAsync());
    }

    [Fact]
    public async Task FiftyConcurrentIdenticalPosts_OnePayment_EachAnswerTheOriginal201OrA409()
    {
        var api = await CreateSut();
        var request = new PaymentRequest("order-concurrent", 40, DelayMs: 200);

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => api.PayAsync(request, "key-concurrent")));

        Assert.Equal(1, await api.PaymentCountAsync());
        Assert.All(responses, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.Created, HttpStatusCode.Conflict }));
        var created = responses.Where(r => r.StatusCode == HttpStatusCode.Created).ToList();
        Assert.NotEmpty(created);
        Assert.Single(created, r => !r.Headers.Contains("Idempotent-Replayed"));
        var bodies = await Task.WhenAll(created.Select(r => r.Content.ReadAsStringAsync()));
        Assert.Single(bodies.Distinct());
        Assert.All(responses.Where(r => r.StatusCode == HttpStatusCode.Conflict), r =>
        {
            Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
            Assert.NotNull(r.Headers.RetryAfter);
        });
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task WithInFlightWait_ASecondRequestWaitsForTheFirst_AndGetsItsResponse()
    {
        var api = await CreateSut(o => o.InFlightWait = TimeSpan.FromSeconds(10));
        var request = new PaymentRequest("order-waits", 40, DelayMs: 500);

        var first = api.PayAsync(request, "key-waits");
        await api.Faults.WrittenAsync("order-waits");
        using var second = await api.PayAsync(request, "key-waits");
        using var original = await first;

        Assert.Equal(HttpStatusCode.Created, original.StatusCode);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal(["true"], second.Headers.GetValues("Idempotent-Replayed"));
        Assert.Equal(original.Headers.Location, second.Headers.Location);
        Assert.Equal(1, await api.PaymentCountAsync());
    }

    [Fact]
    public async Task BodyOverMaxStoredBodySize_SentWhole_ReplayedWithStatusAndHeadersOnly()
    {
        var api = await CreateSut(o => o.MaxStoredBodySize = 10);
        var request = new PaymentRequest("order-big", 10);

        using var first = await api.PayAsync(request, "key-big");
        using var replay = await api.PayAsync(request, "key-big");

        Assert.Contains("order-big", await first.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Created, replay.StatusCode);
        Assert.Equal(["true"], replay.Headers.GetValues("Idempotent-Replayed"));
        Assert.Equal(first.Headers.Location, replay.Headers.Location);
        Assert.Equal("", await replay.Content.ReadAsStringAsync());
        Assert.Equal(1, await api.PaymentCountAsync());
    }

    [Fact]
    public async Task UsedKeyWithAnotherBody_422_NoRow()
    {
        var api = await CreateSut();
        using var first = await api.PayAsync(new PaymentRequest("order-2", 10), "key-2");

        using var other = await api.PayAsync(new PaymentRequest("order-2", 99), "key-2");

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal((HttpStatusCode)422, other.StatusCode);
        Assert.Equal("application/problem+json", other.Content.Headers.ContentType?.MediaType);
        Assert.Equal(1, await api.PaymentCountAsync());
    }

    [Theory]
    [InlineData(null, "requires an Idempotency-Key header")]
    [InlineData("", "requires an Idempotency-Key header")]
    [InlineData("\"\"", "1 to 255 visible ASCII characters")]
    [InlineData("\"unterminated", "1 to 255 visible ASCII characters")]
    [InlineData("tab\tinside", "1 to 255 visible ASCII characters")]
    public async Task MissingOrInvalidKey_400ProblemNamingTheHeader_NoRow(string? key, string reason)
    {
        var api = await CreateSut();

        using var response = await api.PayAsync(new PaymentRequest("order-3", 10), key);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(reason, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, await api.PaymentCountAsync());
        Assert.Equal(0, await api.KeyCountAsync());
    }

    [Fact]
    public async Task KeyOver255CharactersOrTwoValues_400()
    {
        var api = await CreateSut();
        using var tooLong = await api.PayAsync(new PaymentRequest("order-4", 10), new string('k', 256));
        using var twoLines = new HttpRequestMessage(HttpMethod.Post, "/payments") { Content = JsonContent.Create(new PaymentRequest("order-4", 10)) };
        twoLines.Headers.TryAddWithoutValidation("Idempotency-Key", ["a", "b"]);
        using var twice = await api.Client.SendAsync(twoLines);

        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, twice.StatusCode);
        Assert.Contains("not a list", await twice.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, await api.PaymentCountAsync());
    }

    [Fact]
    public async Task QuotedStringAndBareToken_AreTheSameKey()
    {
        var api = await CreateSut();
        var request = new PaymentRequest("order-5", 10);

        using var bare = await api.PayAsync(request, "abc-123");
        using var quoted = await api.PayAsync(request, "\"abc-123\"");

        Assert.Equal(HttpStatusCode.Created, bare.StatusCode);
        Assert.Equal(["true"], quoted.Headers.GetValues("Idempotent-Replayed"));
        Assert.Equal(1, await api.PaymentCountAsync());
    }

    [Fact]
    public async Task EndpointThrows_NothingKept_TheRetryRunsOnce()
    {
        var api = await CreateSut();
        var attempts = 0;
        api.Faults.Throw = _ => Interlocked.Increment(ref attempts) == 1 ? new InvalidOperationException("fails after writing") : null;
        var request = new PaymentRequest("order-6", 10);

        using var failed = await api.PayAsync(request, "key-6");
        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        Assert.Equal(0, await api.PaymentCountAsync());
        Assert.Equal(0, await api.KeyCountAsync());

        using var retried = await api.PayAsync(request, "key-6");
        using var again = await api.PayAsync(request, "key-6");

        Assert.Equal(HttpStatusCode.Created, retried.StatusCode);
        Assert.False(retried.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(["true"], again.Headers.GetValues("Idempotent-Replayed"));
        Assert.Equal(2, attempts);
        Assert.Equal(1, await api.PaymentCountAsync());
    }

    [Fact]
    public async Task Endpoint5xx_RolledBackAndNotKept_TheSameKeyRunsAgain()
    {
        var api = await CreateSut();
        var request = new PaymentRequest("unavailable-7", 10);

        using var first = await api.PayAsync(request, "key-7");
        using var second = await api.PayAsync(request, "key-7");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, first.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, second.StatusCode);
        Assert.False(second.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(0, await api.PaymentCountAsync());
        Assert.Equal(0, await api.KeyCountAsync());
    }

    [Fact]
    public async Task BusinessRejection4xx_IsKeptAndReplayed()
    {
        var api = await CreateSut();
        var request = new PaymentRequest("order-8", 5_000);

        using var first = await api.PayAsync(request, "key-8");
        using var second = await api.PayAsync(request, "key-8");

        Assert.Equal(HttpStatusCode.PaymentRequired, first.StatusCode);
        Assert.Equal(HttpStatusCode.PaymentRequired, second.StatusCode);
        Assert.Equal(["true"], second.Headers.GetValues("Idempotent-Replayed"));
        Assert.Equal(await first.Content.ReadAsStringAsync(), await second.Content.ReadAsStringAsync());
        Assert.Equal(1, await api.KeyCountAsync());
    }

    [Fact]
    public async Task BusinessRejection4xx_WithStoreClientErrorsOff_RunsAgain()
    {
        var api = await CreateSut(o => o.StoreClientErrors = false);
        var request = new PaymentRequest("order-9", 5_000);

        using var first = await api.PayAsync(request, "key-9");
        using var second = await api.PayAsync(request, "key-9");

        Assert.Equal(HttpStatusCode.PaymentRequired, second.StatusCode);
        Assert.False(second.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(0, await api.KeyCountAsync());
    }

    [Fact]
    public async Task TwoUsersWithTheSameKey_EachGetTheirOwnResult()
    {
        var api = await CreateSut();

        using var alice = await api.PayAsync(new PaymentRequest("order-10", 10), "shared-key", user: "alice");
        using var bob = await api.PayAsync(new PaymentRequest("order-10", 10), "shared-key", user: "bob");
        using var aliceAgain = await api.PayAsync(new PaymentRequest("order-10", 10), "shared-key", user: "alice");

        Assert.Equal(HttpStatusCode.Created, alice.StatusCode);
        Assert.Equal(HttpStatusCode.Created, bob.StatusCode);
        Assert.False(bob.Headers.Contains("Idempotent-Replayed"));
        Assert.NotEqual(alice.Headers.Location, bob.Headers.Location);
        Assert.Equal(alice.Headers.Location, aliceAgain.Headers.Location);
        Assert.Equal(["alice", "bob"], (await api.QueryAsync(db => db.Payments.Select(p => p.User).ToListAsync())).Order());
    }

    [Fact]
    public async Task KeyOlderThanTheWindow_IsANewRequest()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-30T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var api = await CreateSut(o => o.DeduplicationWindow = TimeSpan.FromHours(1), services => services.AddSingleton<TimeProvider>(time));
        var request = new PaymentRequest("order-11", 10);
        using var first = await api.PayAsync(request, "key-11");

        time.Advance(TimeSpan.FromMinutes(59));
        using var within = await api.PayAsync(request, "key-11");
        time.Advance(TimeSpan.FromMinutes(2));
        using var after = await api.PayAsync(request, "key-11");

        Assert.Equal(["true"], within.Headers.GetValues("Idempotent-Replayed"));
        Assert.Equal(HttpStatusCode.Created, after.StatusCode);
        Assert.False(after.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(2, await api.PaymentCountAsync());
        Assert.Equal(1, await api.KeyCountAsync());
    }

    [Fact]
    public async Task MvcActionWithTheAttribute_WritesWithoutSaveChanges_ReplaysTheSameKey()
    {
        var api = await CreateSut();
        var request = new PaymentRequest("order-13", 30);

        using var missing = await api.PayAsync(request, null, path: "/refunds");
        using var first = await api.PayAsync(request, "key-13", path: "/refunds");
        using var second = await api.PayAsync(request, "key-13", path: "/refunds");

        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(["true"], second.Headers.GetValues("Idempotent-Replayed"));
        Assert.Equal(await first.Content.ReadAsStringAsync(), await second.Content.ReadAsStringAsync());
        Assert.Equal([-30m], await api.QueryAsync(db => db.Payments.Select(p => p.Amount).ToListAsync()));
    }

    [Fact]
    public async Task EndpointThatSendsThroughTheOutbox_Retried10Times_SendsOneMessage()
    {
        var transport = new RecordingTransport();
        var api = await CreateSut(services: s => s.AddOutbox<PaymentsDbContext>(o => o.AddTransport("test", _ => transport)));
        var request = new PaymentRequest("order-14", 10, Announce: true);

        for (var i = 0; i < 10; i++)
        {
            using var response = await api.PayAsync(request, "key-14");
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }

        await WaitUntilAsync(async () => transport.Sent.Count >= 1 && await api.OutboxCountAsync() == 0, "the message sent and the outbox drained");
        Assert.Single(transport.Sent);
        Assert.Equal(1, await api.PaymentCountAsync());
    }

    [Fact]
    public async Task EachOutcome_IsCountedOnTheInboxMeter_TaggedWithTheRoute()
    {
        var api = await CreateSut();
        var meters = api.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var processed = new MetricCollector<long>(meters, "Inbox", "inbox.http.processed");
        using var replayed = new MetricCollector<long>(meters, "Inbox", "inbox.http.replayed");
        using var mismatch = new MetricCollector<long>(meters, "Inbox", "inbox.http.mismatch");
        using var invalid = new MetricCollector<long>(meters, "Inbox", "inbox.http.invalid_key");
        using var notStored = new MetricCollector<long>(meters, "Inbox", "inbox.http.not_stored");

        (await api.PayAsync(new PaymentRequest("order-15", 10), "key-15")).Dispose();
        (await api.PayAsync(new PaymentRequest("order-15", 10), "key-15")).Dispose();
        (await api.PayAsync(new PaymentRequest("order-15", 11), "key-15")).Dispose();
        (await api.PayAsync(new PaymentRequest("order-15", 10), null)).Dispose();
        (await api.PayAsync(new PaymentRequest("unavailable-15", 10), "key-15b")).Dispose();

        foreach (var collector in new[] { processed, replayed, mismatch, invalid, notStored })
        {
            var measurement = Assert.Single(collector.GetMeasurementSnapshot());
            Assert.Equal(1, measurement.Value);
            Assert.Equal("/payments", measurement.Tags["http.route"]);
        }
    }

    [Fact]
    public async Task ThePurger_DeletesKeysOlderThanTheWindow_AndOnlyThose()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-30T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var api = await CreateSut(o => o.DeduplicationWindow = TimeSpan.FromHours(1), services => services.AddSingleton<TimeProvider>(time));
        for (var i = 0; i < 3; i++)
        {
            using var old = await api.PayAsync(new PaymentRequest($"old-{i}", 10), $"old-{i}");
        }

        time.Advance(TimeSpan.FromMinutes(30));
        using var recent = await api.PayAsync(new PaymentRequest("recent", 10), "recent");
        Assert.Equal(4, await api.KeyCountAsync());

        // 31 minutes on, the first three are 61 minutes old; the purger's next pass (every minute) deletes them.
        time.Advance(TimeSpan.FromMinutes(31));
        await WaitUntilAsync(async () => await api.KeyCountAsync() == 1, "the expired keys purged");
        Assert.Equal(["recent"], await api.QueryAsync(db => db.Set<Storage.IdempotencyRecord>().Select(r => r.Key).ToListAsync()));
        Assert.Equal(4, await api.PaymentCountAsync());
    }

    [Fact]
    public async Task WithoutAnInbox_TheHostRefusesToStart_NamingTheCall()
    {
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => CreateSut(addInbox: false));

        Assert.Contains("services.AddInbox<PaymentsDbContext>()", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutUseIdempotencyKeys_TheEndpointRefusesToRunUnprotected()
    {
        var api = await CreateSut(useMiddleware: false);

        using var response = await api.PayAsync(new PaymentRequest("order-12", 10), "key-12");
        using var mvc = await api.PayAsync(new PaymentRequest("order-12", 10), "key-12", path: "/refunds");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, mvc.StatusCode);
        Assert.Equal(0, await api.PaymentCountAsync());
    }

    protected async Task<PaymentsApi> CreateSut(
        Action<IdempotencyKeyOptions>? configure = null,
        Action<IServiceCollection>? services = null,
        bool useMiddleware = true,
        bool addInbox = true,
        Action<DbContextOptionsBuilder>? database = null)
    {
        var api = await PaymentsApi.StartAsync(o => { Database(o); database?.Invoke(o); }, configure, services, useMiddleware, addInbox);
        _apis.Add(api);
        return api;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"Timed out waiting until {what}.");
            await Task.Delay(25);
        }
    }
}
