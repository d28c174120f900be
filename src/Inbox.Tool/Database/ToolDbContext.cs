using Microsoft.EntityFrameworkCore;

namespace Inbox.Tool.Database;

/// <summary>
/// A DbContext with the application's Inbox tables and nothing else, mapped from the names given on the command line, so
/// the tool runs the same code as the application's <c>IInboxAdmin</c>. One model per process: each run of the tool
/// is one command against one database.
/// </summary>
internal sealed class ToolDbContext(DbContextOptions<ToolDbContext> options, ToolModel tables) : DbContext(options)
{
    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        if (tables.InboxTable is { } inbox)
        {
            modelBuilder.AddInbox(t => (t.TableName, t.Schema, t.Retention) = (inbox, tables.Schema, tables.Retention));
        }

        if (tables.OutboxTable is { } outbox)
        {
            modelBuilder.AddOutbox(t => (t.TableName, t.Schema) = (outbox, tables.Schema));
        }

        if (tables.KeysTable is { } keys)
        {
            modelBuilder.AddIdempotencyKeys(t => (t.TableName, t.Schema) = (keys, tables.Schema));
        }
    }
}
