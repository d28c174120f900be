using System.Text.Json;
using Inbox.RabbitMQ.Tests.Support;
using Inbox.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;

namespace Inbox.RabbitMQ.Tests;

/// <summary>The RabbitMQ outbox transport: what a handler sends leaves after the commit, once, under a stable message ID.</summary>
public sealed class RabbitMqOutboxTests
{
    [Fact]
    public async Task HandlerSendsThroughTheOutbox_OneMessagePerNewOrder_WithTheRowsStableId_ConfirmedBeforeTheRowGoes()
    {
        await using var harness = await ConsumerHarness.CreateAsync();
        await harness.DeclareAsync();
        harness.Probe.InvoiceQueue = await harness.DeclareOtherQueueAsync("invoices");
        var unique = Enumerable.Range(0, 60).Select(i => ($"m-{i}", $"order-{i}")).ToList();
        await harness.PublishManyAsync(unique.Concat(unique.Take(15)));

        await harness.StartAsync();
        await Eventually.WaitAsync(
            async () => await harness.CountAsync(harness.Probe.InvoiceQueue) == unique.Count && (await harness.OutboxAsync()).Pending == 0,
            "an invoice message per unique order and the outbox drained");
        await harness.StopAsync();

        var sent = await harness.DrainAsync(harness.Probe.InvoiceQueue);
        Assert.Equal(unique.Count, sent.Count);
        Assert.Equal(unique.Select(u => u.Item2).Order(), sent.Select(m => JsonSerializer.Deserialize<InvoiceCreated>(m.Body, JsonSerializerOptions.Web)!.OrderId).Order());
        Assert.Equal(unique.Count, sent.Select(m => m.Properties.MessageId).Distinct().Count());
        Assert.All(sent, m =>
        {
            Assert.True(Guid.TryParse(m.Properties.MessageId, out _));
            Assert.True(m.Properties.Persistent);
            Assert.Equal("application/json", m.Properties.ContentType);
        });
        Assert.Equal((0, 0), await harness.OutboxAsync());
    }

    [Fact]
    public async Task MessageForAQueueThatDoesNotExist_IsReturnedAsUnroutable_RefusedUpToMaxAttempts_ThenKeptAsFailed_OthersLeave_RetriedAfterTheQueueExists_ItIsSentOnce()
    {
        await using var harness = await ConsumerHarness.CreateAsync();
        await harness.DeclareAsync();
        var invoices = await harness.DeclareOtherQueueAsync("invoices");
        var missing = $"refunds-{Guid.NewGuid():N}";
        await harness.StartAsync(outbox: o => o.MaxAttempts = 2);

        string refused;
        await using (var db = harness.NewDbContext())
        {
            refused = db.Outbox().Send(missing, new InvoiceCreated("refund"));
            db.Outbox().Send(invoices, new InvoiceCreated("fine"));
            await db.SaveChangesAsync();
        }

        await Eventually.WaitAsync(async () => await harness.OutboxAsync() == (0, 1), "the unroutable row to be kept as failed and the other sent");
        var sent = Assert.Single(await harness.DrainAsync(invoices));
        Assert.Contains("\"fine\"", sent.Body, StringComparison.Ordinal);

        // The cause fixed (the queue declared), the operator sends it again: it leaves once, under its message ID.
        await using var channel = await harness.OpenChannelAsync();
        await channel.QueueDeclareAsync(missing, durable: true, exclusive: false, autoDelete: false);
        try
        {
            await using (var scope = harness.Host!.Services.CreateAsyncScope())
            {
                var admin = scope.ServiceProvider.GetRequiredService<Inbox.Operations.IInboxAdmin<BillingDbContext>>();
                // A message sent to a queue goes by the default exchange, with the queue as its routing key.
                var failed = Assert.Single(await admin.GetFailedOutboxMessagesAsync("amq.default"), m => m.PartitionKey == missing);
                Assert.Equal(refused, failed.MessageId);
                Assert.Contains("unroutable", failed.LastError, StringComparison.Ordinal);
                Assert.Equal(1, await admin.RetryFailedOutboxMessagesAsync(Inbox.Operations.OutboxSelection.Destination("amq.default", missing), "queue declared"));
            }

            await Eventually.WaitAsync(async () => await harness.OutboxAsync() == (0, 0) && await harness.CountAsync(missing) == 1, "the retried message to be sent");
            await harness.StopAsync();
            var retried = Assert.Single(await harness.DrainAsync(missing));
            Assert.Equal(refused, retried.Properties.MessageId);
            Assert.Contains("\"refund\"", retried.Body, StringComparison.Ordinal);
        }
        finally
        {
            await channel.QueueDeleteAsync(missing);
        }
    }

    [Fact]
    public async Task MessagesForOneQueue_LeaveInTheOrderTheyWereWritten()
    {
        await using var harness = await ConsumerHarness.CreateAsync();
        await harness.DeclareAsync();
        var invoices = await harness.DeclareOtherQueueAsync("invoices");
        await harness.StartAsync();

        for (var batch = 0; batch < 5; batch++)
        {
            await using var db = harness.NewDbContext();
            for (var i = 0; i < 20; i++)
            {
                db.Outbox().Send(invoices, new InvoiceCreated($"o-{(batch * 20) + i:D3}"));
            }

            await db.SaveChangesAsync();
        }

        await Eventually.WaitAsync(async () => await harness.CountAsync(invoices) == 100, "the hundred messages");
        await harness.StopAsync();

        var sent = await harness.DrainAsync(invoices);
        Assert.Equal(
            Enumerable.Range(0, 100).Select(i => $"o-{i:D3}"),
            sent.Select(m => JsonSerializer.Deserialize<InvoiceCreated>(m.Body, JsonSerializerOptions.Web)!.OrderId));
    }

    /// <param name="commitOrder">
    /// true: the second writer of the queue waits on the first's key lock until it commits, so IDs follow commit order;
    /// false (the default): both write at once, and only transactions that do not overlap keep their order.
    /// </param>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task OverlappingWritersOfOneQueue_WithCommitOrder_TheSecondWaitsForTheFirst_WithoutIt_NeitherWaits(bool commitOrder)
    {
        await using var harness = await ConsumerHarness.CreateAsync();
        await harness.DeclareAsync();
        var invoices = await harness.DeclareOtherQueueAsync("invoices");
        await harness.StartAsync();
        using var first = harness.Host!.Services.CreateScope();
        using var second = harness.Host.Services.CreateScope();
        var db1 = first.ServiceProvider.GetRequiredService<BillingDbContext>();
        var db2 = second.ServiceProvider.GetRequiredService<BillingDbContext>();

        await using var transaction1 = await db1.Database.BeginTransactionAsync();
        db1.Outbox().Send(invoices, new InvoiceCreated("first"), commitOrder: commitOrder);
        await db1.SaveChangesAsync();
        await using var transaction2 = await db2.Database.BeginTransactionAsync();
        db2.Outbox().Send(invoices, new InvoiceCreated("second"), commitOrder: commitOrder);
        var save2 = db2.SaveChangesAsync();
        if (commitOrder)
        {
            await Eventually.WaitAsync(async () => await WaitingOnALockAsync(harness) == 1, "the second writer to wait on the first's key lock");
            Assert.False(save2.IsCompleted);
            await transaction1.CommitAsync();
            await save2;
        }
        else
        {
            await save2.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(0, await WaitingOnALockAsync(harness));
            await transaction1.CommitAsync();
        }

        await transaction2.CommitAsync();
        await Eventually.WaitAsync(async () => await harness.CountAsync(invoices) == 2, "both messages");
        await harness.StopAsync();
        Assert.Equal(["first", "second"], (await harness.DrainAsync(invoices)).Select(m => JsonSerializer.Deserialize<InvoiceCreated>(m.Body, JsonSerializerOptions.Web)!.OrderId));
    }

    [Fact]
    public void Publish_ToTheDefaultExchangeWithoutARoutingKey_FailsTheWriteNotTheSend()
    {
        using var db = new BillingDbContext(new DbContextOptionsBuilder<BillingDbContext>().UseSqlite("Data Source=:memory:").Options);

        var error = Assert.Throws<InvalidOutboxMessageException>(() => db.Outbox().Publish("", "", new InvoiceCreated("x")));

        Assert.Contains("routing key", error.Message, StringComparison.Ordinal);
    }

    private static async Task<int> WaitingOnALockAsync(ConsumerHarness harness)
    {
        await using var db = harness.NewDbContext();
        return await db.Database.SqlQueryRaw<int>("SELECT count(*)::int AS \"Value\" FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'").SingleAsync();
    }
}
