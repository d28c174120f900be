namespace Inbox.MassTransit.Outbox;

/// <summary>Says that <c>x.AddInboxOutbox&lt;TDbContext&gt;()</c> was called: the inbox filters route Publish and Send through that outbox.</summary>
internal sealed class InboxOutboxMarker(Type dbContextType)
{
    public Type DbContextType { get; } = dbContextType;
}
