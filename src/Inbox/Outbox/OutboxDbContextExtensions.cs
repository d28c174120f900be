using Inbox;

namespace Microsoft.EntityFrameworkCore;

/// <summary>The outbox of any DbContext whose model has <c>modelBuilder.AddOutbox()</c>.</summary>
public static class OutboxDbContextExtensions
{
    /// <summary>
    /// Gets the DbContext's outbox: messages added to it are saved by the DbContext's next <c>SaveChanges</c> (inside an
    /// inbox unit of work: by the inbox, with the inbox record) and sent by the dispatcher once that transaction committed.
    /// A DbContext that is never saved sends nothing.
    /// </summary>
    /// <param name="db">The application's DbContext.</param>
    /// <returns>A writer bound to <paramref name="db"/>.</returns>
    public static OutboxWriter Outbox(this DbContext db)
    {
        ArgumentNullException.ThrowIfNull(db);
        return new OutboxWriter(db);
    }
}
