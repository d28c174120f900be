namespace Inbox;

/// <summary>
/// Says that <c>services.AddInbox&lt;TDbContext&gt;()</c> was called for a DbContext type. Adapters resolve every
/// registration to find the inbox to use when the application does not name one.
/// </summary>
public sealed class InboxRegistration
{
    internal InboxRegistration(Type dbContextType) => DbContextType = dbContextType;

    /// <summary>Gets the DbContext type whose inbox is registered.</summary>
    public Type DbContextType { get; }
}
