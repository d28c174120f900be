using Microsoft.EntityFrameworkCore;

namespace Inbox.Model;

/// <summary>
/// The tables of <see cref="InboxRetention.Generations"/>, mapped as property-bag entity types so that the
/// application's migrations and <c>EnsureCreated</c> create them with the rest of its model: three record tables used
/// in turn (<c>{table}_g0</c> to <c>_g2</c>) and a one-row table that says which one is current.
/// </summary>
internal static class InboxGenerations
{
    /// <summary>Model annotation holding the inbox table's base name when its retention is by generations.</summary>
    public const string Annotation = "Inbox:Generations";

    /// <summary>How many record tables take turns: the current generation, the previous one, and one being emptied.</summary>
    public const int Tables = 3;

    /// <summary>How much longer than the base name the longest derived name is (<c>_generation</c>).</summary>
    public const int SuffixLength = 11;

    public static string RecordTable(string table, int slot) => $"{table}_g{slot}";

    public static string ControlTable(string table) => $"{table}_generation";

    /// <summary>Maps the three record tables and the control table, its one row seeded with generation 0.</summary>
    public static void Map(ModelBuilder modelBuilder, InboxTableOptions options)
    {
        for (var slot = 0; slot < Tables; slot++)
        {
            var name = RecordTable(options.TableName, slot);
            modelBuilder.SharedTypeEntity<Dictionary<string, object>>(name, entity =>
            {
                entity.ToTable(name, options.Schema);
                entity.IndexerProperty<string>("Consumer").HasColumnName("consumer").IsRequired();
                entity.IndexerProperty<string>("MessageId").HasColumnName("message_id").IsRequired();
                entity.IndexerProperty<DateTimeOffset>("ProcessedAt").HasColumnName("processed_at").IsRequired();
                entity.IndexerProperty<byte[]?>("Fingerprint").HasColumnName("fingerprint");
                entity.HasKey("Consumer", "MessageId").HasName($"pk_{name}");
            });
        }

        var control = ControlTable(options.TableName);
        modelBuilder.SharedTypeEntity<Dictionary<string, object>>(control, entity =>
        {
            entity.ToTable(control, options.Schema);
            entity.IndexerProperty<int>("Id").HasColumnName("id").ValueGeneratedNever();
            entity.IndexerProperty<long>("Generation").HasColumnName("generation").IsRequired();
            entity.IndexerProperty<DateTimeOffset?>("StartedAt").HasColumnName("started_at");
            entity.IndexerProperty<DateTimeOffset?>("PreviousStartedAt").HasColumnName("previous_started_at");
            entity.IndexerProperty<DateTimeOffset?>("OldestStartedAt").HasColumnName("oldest_started_at");
            entity.IndexerProperty<bool>("Settling").HasColumnName("settling").IsRequired();
            entity.IndexerProperty<long?>("SettleAfter").HasColumnName("settle_after");
            entity.HasKey("Id").HasName($"pk_{control}");
            entity.HasData(new { Id = 1, Generation = 0L, Settling = false });
        });

        modelBuilder.HasAnnotation(Annotation, options.TableName);
    }
}
