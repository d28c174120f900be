using System.Text.Json;
using Inbox.Tool.Tests.Support;
using Microsoft.EntityFrameworkCore;

namespace Inbox.Tool.Tests;

/// <summary>
/// <c>dotnet inbox</c> against each database, as an operator runs it (a process of its own): what it shows, what it
/// changes, its exit codes and its JSON; bad input is refused with a clear message and changes nothing.
/// </summary>
public abstract class ToolContract(ITestOutputHelper output) : IAsyncLifetime
{
    private Shop? _shop;

    protected Shop TheShop => _shop!;

    protected abstract Task<(string Provider, string ConnectionString)> DatabaseAsync();

    public async Task InitializeAsync()
    {
        var (provider, connectionString) = await DatabaseAsync();
        _shop = await Shop.CreateAsync(provider, connectionString);
    }

    public virtual async Task DisposeAsync() => await _shop!.DisposeAsync();

    [Fact]
    public async Task Status_Json_CountsEachConsumerDestinationAndTheKeys()
    {
        await TheShop.DeliverAsync("billing", "m-1");
        await TheShop.DeliverAsync("billing", "m-2");
        await TheShop.DeliverAsync("shipping", "m-1");
        await TheShop.WriteOutboxAsync("invoices", failed: false);
        await TheShop.WriteOutboxAsync("refunds", failed: true);

        var run = await RunAsync(null, ["status", "--json", .. TheShop.Database]);

        Assert.Equal(0, run.ExitCode);
        using var json = JsonDocument.Parse(run.Output);
        var root = json.RootElement;
        Assert.Equal("Delete", root.GetProperty("retention").GetString());
        var inbox = root.GetProperty("inbox").EnumerateArray().ToDictionary(c => c.GetProperty("consumer").GetString()!, c => c.GetProperty("records").GetInt64());
        Assert.Equal(new Dictionary<string, long> { ["billing"] = 2, ["shipping"] = 1 }, inbox);
        var outbox = root.GetProperty("outbox").EnumerateArray().ToDictionary(d => d.GetProperty("destination").GetString()!);
        Assert.Equal((1, 0), (outbox["invoices"].GetProperty("pending").GetInt64(), outbox["invoices"].GetProperty("failed").GetInt64()));
        Assert.Equal((0, 1), (outbox["refunds"].GetProperty("pending").GetInt64(), outbox["refunds"].GetProperty("failed").GetInt64()));
        Assert.Equal("UnknownTopicOrPart: refunds", outbox["refunds"].GetProperty("lastError").GetString());
        Assert.Equal(0, root.GetProperty("idempotencyKeys").GetInt64());
    }

    [Fact]
    public async Task Status_AsATable_NamesEachConsumerAndDestination()
    {
        await TheShop.DeliverAsync("billing", "m-1");
        await TheShop.WriteOutboxAsync("refunds", failed: true);

        var run = await RunAsync(null, ["status", .. TheShop.Database]);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("billing", run.Output, StringComparison.Ordinal);
        Assert.Contains("refunds", run.Output, StringComparison.Ordinal);
        Assert.Contains("UnknownTopicOrPart: refunds", run.Output, StringComparison.Ordinal);
        Assert.Contains("Idempotency keys: 0 in", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_WithTheApplicationsAssembly_ReadsTheTableNamesFromItsDbContext()
    {
        await TheShop.DeliverAsync("billing", "m-1");
        var assembly = Path.Combine(AppContext.BaseDirectory, "Inbox.Tool.Tests.dll");

        var run = await RunAsync(null, ["status", "--json", "--connection", TheShop.ConnectionString, "--assembly", assembly, "--context", nameof(ShopDbContext)]);
        var wrong = await RunAsync(null, ["status", "--connection", TheShop.ConnectionString, "--assembly", assembly, "--context", "NoSuchDbContext"]);
        var both = await RunAsync(null, ["status", "--connection", TheShop.ConnectionString, "--assembly", assembly, "--inbox-table", "shop_inbox"]);
        var notAnAssembly = await RunAsync(null, ["status", "--connection", TheShop.ConnectionString, "--assembly", Path.Combine(AppContext.BaseDirectory, "Inbox.Tool.Tests.deps.json")]);

        Assert.Equal(0, run.ExitCode);
        var root = JsonDocument.Parse(run.Output).RootElement;
        var consumer = Assert.Single(root.GetProperty("inbox").EnumerateArray());
        Assert.Equal(("billing", ShopDbContext.InboxTable), (consumer.GetProperty("consumer").GetString(), consumer.GetProperty("table").GetString()));
        Assert.Equal(ShopDbContext.KeysTable, root.GetProperty("idempotencyKeyTable").GetString());
        Assert.Equal((2, "has no DbContext named NoSuchDbContext"), (wrong.ExitCode, Part(wrong.Error, "has no DbContext named NoSuchDbContext")));
        Assert.Equal(2, both.ExitCode);
        Assert.Equal((2, "is not a .NET assembly"), (notAnAssembly.ExitCode, Part(notAnAssembly.Error, "is not a .NET assembly")));
    }

    [Fact]
    public async Task FailedOutbox_ListedThenRetriedById_IsPendingAgain_ASecondRetryFindsNothing()
    {
        var refused = await TheShop.WriteOutboxAsync("refunds", failed: true);
        var list = await RunAsync(null, ["outbox", "failed", "list", "--destination", "refunds", "--json", .. TheShop.Database]);
        Assert.Equal(0, list.ExitCode);
        var failed = Assert.Single(JsonDocument.Parse(list.Output).RootElement.EnumerateArray());
        Assert.Equal(refused, failed.GetProperty("messageId").GetString());
        var id = failed.GetProperty("id").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture);

        var retry = await RunAsync(null, ["outbox", "failed", "retry", "--id", id, "--yes", "--json", .. TheShop.Database]);
        var again = await RunAsync(null, ["outbox", "failed", "retry", "--id", id, "--yes", "--json", .. TheShop.Database]);

        Assert.Equal(0, retry.ExitCode);
        Assert.Equal(1, JsonDocument.Parse(retry.Output).RootElement.GetProperty("retried").GetInt32());
        Assert.Equal((true, false), await TheShop.OutboxStateAsync(refused));
        Assert.Equal(3, again.ExitCode);
    }

    [Fact]
    public async Task FailedOutbox_Delete_NeedsAReasonAndAYes_ADeclinedOneChangesNothing()
    {
        var refused = await TheShop.WriteOutboxAsync("refunds", failed: true);

        var noReason = await RunAsync("y\n", ["outbox", "failed", "delete", "--destination", "refunds", .. TheShop.Database]);
        var declined = await RunAsync("n\n", ["outbox", "failed", "delete", "--destination", "refunds", "--reason", "topic retired", .. TheShop.Database]);
        var all = await RunAsync(null, ["outbox", "failed", "delete", "--all", "--reason", "clean up", "--yes", .. TheShop.Database]);
        Assert.Equal((2, 4, 2), (noReason.ExitCode, declined.ExitCode, all.ExitCode));
        Assert.Contains("--reason", noReason.Error, StringComparison.Ordinal);
        Assert.Contains("Not confirmed: nothing was changed", declined.Error, StringComparison.Ordinal);
        Assert.Equal((true, true), await TheShop.OutboxStateAsync(refused));

        var confirmed = await RunAsync("y\n", ["outbox", "failed", "delete", "--destination", "refunds", "--reason", "topic retired", .. TheShop.Database]);

        Assert.Equal(0, confirmed.ExitCode);
        Assert.Contains("1 failed outbox messages deleted (destination refunds)", confirmed.Output, StringComparison.Ordinal);
        Assert.Equal((false, false), await TheShop.OutboxStateAsync(refused));
    }

    [Fact]
    public async Task Forget_ThenTheRedelivery_RunsTheHandlerAgainOnce_AnUnknownIdExits3()
    {
        Assert.Equal(InboxOutcome.Processed, await TheShop.DeliverAsync("billing", "m-1"));
        Assert.Equal(InboxOutcome.Duplicate, await TheShop.DeliverAsync("billing", "m-1"));

        var forget = await RunAsync(null, ["forget", "--consumer", "billing", "--message-id", "m-1", "--reason", "bug 123 corrupted the order", "--yes", "--json", .. TheShop.Database]);
        var unknown = await RunAsync(null, ["forget", "--consumer", "billing", "--message-id", "m-*", "--reason", "a pattern", "--yes", .. TheShop.Database]);

        Assert.Equal(0, forget.ExitCode);
        Assert.True(JsonDocument.Parse(forget.Output).RootElement.GetProperty("forgotten").GetBoolean());
        Assert.Equal(3, unknown.ExitCode);
        Assert.Equal(InboxOutcome.Processed, await TheShop.DeliverAsync("billing", "m-1"));
        Assert.Equal(InboxOutcome.Duplicate, await TheShop.DeliverAsync("billing", "m-1"));
        Assert.Equal(2, await TheShop.QueryAsync(db => db.Orders.CountAsync(o => o.MessageId == "m-1")));
    }

    [Fact]
    public async Task BadInput_IsRefusedWithAClearMessage_AndChangesNothing()
    {
        await TheShop.DeliverAsync("billing", "m-1");

        var control = await RunAsync(null, ["forget", "--consumer", "bill\u0007ing", "--message-id", "m-1", "--reason", "typo", "--yes", .. TheShop.Database]);
        var table = await RunAsync(null, ["status", "--connection", TheShop.ConnectionString, "--inbox-table", "no_such_table"]);
        var noTables = await RunAsync(null, ["status", "--connection", TheShop.ConnectionString]);
        var selection = await RunAsync(null, ["outbox", "failed", "retry", "--id", "1", "--all", "--yes", .. TheShop.Database]);
        var provider = await RunAsync(null, ["status", "--provider", "oracle", .. TheShop.Database]);
        var noReason = await RunAsync(null, ["forget", "--consumer", "billing", "--message-id", "m-1", "--yes", .. TheShop.Database]);
        var noOutbox = await RunAsync(null, ["outbox", "failed", "retry", "--all", "--yes", "--connection", TheShop.ConnectionString, "--inbox-table", ShopDbContext.InboxTable]);

        Assert.Equal((2, "control character"), (control.ExitCode, Part(control.Error, "control character")));
        Assert.Equal((2, "There is no table"), (table.ExitCode, Part(table.Error, "There is no table")));
        Assert.Equal((2, "No inbox, outbox or idempotency-key table"), (noTables.ExitCode, Part(noTables.Error, "No inbox, outbox or idempotency-key table")));
        Assert.Equal((2, "exactly one of --id, --destination or --all"), (selection.ExitCode, Part(selection.Error + selection.Output, "exactly one of --id, --destination or --all")));
        Assert.Equal((2, "Unknown provider"), (provider.ExitCode, Part(provider.Error, "Unknown provider")));
        Assert.Equal((2, "Say why with --reason"), (noReason.ExitCode, Part(noReason.Error, "Say why with --reason")));
        Assert.Equal((2, "The database has no outbox table"), (noOutbox.ExitCode, Part(noOutbox.Error, "The database has no outbox table")));
        Assert.Equal(InboxOutcome.Duplicate, await TheShop.DeliverAsync("billing", "m-1"));
    }

    protected async Task<ToolRun> RunAsync(string? input, string[] args)
    {
        var run = await ToolProcess.RunAsync(input, args);
        output.WriteLine($"> dotnet inbox {string.Join(' ', args.TakeWhile(a => a != "--connection"))}\n{run}");
        return run;
    }

    private static string? Part(string text, string expected) => text.Contains(expected, StringComparison.Ordinal) ? expected : text;
}
