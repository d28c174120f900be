using Inbox.Tests.Contract;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Inbox.Tests.Purging;

/// <summary>Looks at and resets the tables of <see cref="InboxRetention.Generations"/> behind the inbox's back.</summary>
internal static class GenerationsSql
{
    /// <summary>Generation 0, clock not started, all three tables empty.</summary>
    public static async Task ResetAsync(InboxHarness harness)
    {
        await using var scope = harness.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<TestDbContext>().Database.ExecuteSqlRawAsync(
            "TRUNCATE inbox_messages_g0, inbox_messages_g1, inbox_messages_g2; " +
            "UPDATE inbox_messages_generation SET generation = 0, started_at = NULL, previous_started_at = NULL, " +
            "oldest_started_at = NULL, settling = false, settle_after = NULL");
    }

    /// <summary>The current generation and whether it is still settling.</summary>
    public static async Task<(long Generation, bool Settling)> StateAsync(InboxHarness harness)
    {
        await using var scope = harness.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TestDbContext>();
        var generation = await db.Database.SqlQueryRaw<long>("SELECT generation AS \"Value\" FROM inbox_messages_generation").SingleAsync();
        var settling = await db.Database.SqlQueryRaw<bool>("SELECT settling AS \"Value\" FROM inbox_messages_generation").SingleAsync();
        return (generation, settling);
    }

    /// <summary>
    /// Runs passes until the current generation has settled. Settling waits for every older transaction of the cluster,
    /// and other test classes share it, so one pass may not be enough.
    /// </summary>
    public static async Task SettleAsync(InboxHarness harness)
    {
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            await harness.PurgeAsync();
            if (!(await StateAsync(harness)).Settling)
            {
                return;
            }

            await Task.Delay(20, patience.Token);
        }
    }

    /// <summary>How many records each of the three tables holds.</summary>
    public static async Task<long[]> CountsAsync(InboxHarness harness)
    {
        await using var scope = harness.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TestDbContext>();
        var counts = new long[3];
        for (var slot = 0; slot < 3; slot++)
        {
            var sql = "SELECT count(*) AS \"Value\" FROM inbox_messages_g" + slot;
            counts[slot] = await db.Database.SqlQueryRaw<long>(sql).SingleAsync();
        }

        return counts;
    }
}
