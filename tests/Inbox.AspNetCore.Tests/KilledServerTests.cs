using System.Net;
using System.Net.Http.Json;
using Inbox.AspNetCore.Tests.Support;
using Inbox.TestSupport;
using Npgsql;

namespace Inbox.AspNetCore.Tests;

/// <summary>
/// The server process killed with SIGKILL after the key's transaction committed and before the response went out: the
/// client never hears back, and its retry with the same key gets the stored response from the next server, one payment.
/// </summary>
public sealed class KilledServerTests : IAsyncLifetime
{
    private PostgresDatabase _database = null!;

    public async Task InitializeAsync() => _database = await PostgresDatabase.CreateAsync("inbox_http_kill");

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task KilledBetweenCommitAndResponse_TheRetryGetsTheReplay_OnePayment()
    {
        var request = new PaymentRequest("order-killed", 42);
        using (var first = await StartServerAsync())
        {
            using var client = ClientOf(first);
            using var message = Payment(request, "key-killed");
            message.Headers.Add("X-Stall-After-Commit", "true");
            var sending = client.SendAsync(message);

            await first.WaitForLineAsync(line => line == "committed");
            first.Kill();

            await Assert.ThrowsAsync<HttpRequestException>(() => sending);
        }

        Assert.Equal(1, await PaymentCountAsync());

        using var second = await StartServerAsync();
        using var retryClient = ClientOf(second);
        using var retry = await retryClient.SendAsync(Payment(request, "key-killed"));

        Assert.Equal(HttpStatusCode.Created, retry.StatusCode);
        Assert.Equal(["true"], retry.Headers.GetValues("Idempotent-Replayed"));
        Assert.Equal("/payments/1", retry.Headers.Location?.ToString());
        Assert.Contains("\"orderId\":\"order-killed\"", await retry.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(1, await PaymentCountAsync());
    }

    private Task<WorkerProcess> StartServerAsync()
        => WorkerProcess.StartAsync(typeof(PaymentsServer).Assembly, "payments-server", _database.ConnectionString);

    private static HttpClient ClientOf(WorkerProcess server)
        => new() { BaseAddress = new Uri(server.StartupLines.Single(l => l.StartsWith("listening ", StringComparison.Ordinal))["listening ".Length..]) };

    private static HttpRequestMessage Payment(PaymentRequest request, string key)
    {
        var message = new HttpRequestMessage(HttpMethod.Post, "/payments") { Content = JsonContent.Create(request) };
        message.Headers.Add("Idempotency-Key", key);
        return message;
    }

    private async Task<long> PaymentCountAsync()
    {
        await using var connection = new NpgsqlConnection(_database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM \"Payments\"", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
