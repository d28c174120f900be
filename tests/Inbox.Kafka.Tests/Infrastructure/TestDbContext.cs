using Microsoft.EntityFrameworkCore;

namespace Inbox.Kafka.Tests.Infrastructure;

public sealed class TestDbContext(DbContextOptions<TestDbContext> options) : DbContext(options)
{
    public DbSet<Effect> Effects => Set<Effect>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.AddInbox();
        modelBuilder.AddInboxKafkaOffsets();
        modelBuilder.Entity<Effect>(e =>
        {
            e.ToTable("effects");
            e.HasKey(x => x.Id);
        });
    }
}

/// <summary>The business write of one handled message.</summary>
public sealed class Effect
{
    public long Id { get; set; }

    public string MessageId { get; set; } = "";

    public string Key { get; set; } = "";

    public int Sequence { get; set; }

    public int Partition { get; set; }

    public long Offset { get; set; }
}

public sealed record OrderPlaced(string Key, int Sequence, bool Poison = false);

/// <summary>What the handlers of one host did, for the tests to look at.</summary>
public sealed class HandlerProbe
{
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    /// <summary>Gets or sets how long each message takes, to keep a stream in flight while the group changes.</summary>
    public TimeSpan Delay { get; set; }

    public void Called() => Interlocked.Increment(ref _calls);
}

public sealed class OrderPlacedHandler(TestDbContext db, HandlerProbe probe) : IInboxHandler<OrderPlaced>
{
    public async Task HandleAsync(OrderPlaced message, InboxMessageContext context, CancellationToken cancellationToken)
    {
        probe.Called();
        if (probe.Delay > TimeSpan.Zero)
        {
            await Task.Delay(probe.Delay, cancellationToken);
        }

        if (message.Poison)
        {
            throw new InvalidOperationException($"Poison message {context.MessageId}.");
        }

        db.Effects.Add(new Effect { MessageId = context.MessageId, Key = message.Key, Sequence = message.Sequence, Partition = context.Partition, Offset = context.Offset });
    }
}
