using System.Globalization;
using Inbox.Model;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace Inbox.Testing.Snapshots;

/// <summary>
/// Every row of every table of a DbContext's model, read at one moment, except the inbox's own tables (which each
/// delivery writes to by design). Rows are compared as text, so any column of any type shows in a difference.
/// Hand-written because no library snapshots an EF Core model's tables generically; it reads only the tables the
/// model maps, with the provider's own identifier quoting.
/// </summary>
internal sealed class DatabaseSnapshot
{
    private const int BinaryShown = 32;
    private readonly Dictionary<string, List<SnapshotRow>> _tables;

    private DatabaseSnapshot(Dictionary<string, List<SnapshotRow>> tables) => _tables = tables;

    /// <summary>Gets how many rows the snapshot holds in all.</summary>
    public int RowCount => _tables.Values.Sum(rows => rows.Count);

    /// <summary>Reads every mapped table but the inbox's.</summary>
    public static async Task<DatabaseSnapshot> TakeAsync(DbContext db, CancellationToken cancellationToken)
    {
        var sql = db.GetService<ISqlGenerationHelper>();
        var tables = new Dictionary<string, List<SnapshotRow>>(StringComparer.Ordinal);
        await db.Database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var table in MappedTables(db.Model))
            {
                var command = db.Database.GetDbConnection().CreateCommand();
                await using (command.ConfigureAwait(false))
                {
                    command.CommandText = $"SELECT * FROM {sql.DelimitIdentifier(table.Name, table.Schema)}";
                    var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                    await using (reader.ConfigureAwait(false))
                    {
                        var keys = table.KeyColumns.Select(reader.GetOrdinal).ToArray();
                        var rows = new List<SnapshotRow>();
                        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                        {
                            var columns = new string[reader.FieldCount];
                            for (var i = 0; i < columns.Length; i++)
                            {
                                columns[i] = $"{reader.GetName(i)}={Format(reader.GetValue(i))}";
                            }

                            var text = string.Join(", ", columns);
                            rows.Add(new SnapshotRow(keys.Length == 0 ? text : string.Join(", ", keys.Select(k => columns[k])), text));
                        }

                        tables[table.Schema is null ? table.Name : $"{table.Schema}.{table.Name}"] = rows;
                    }
                }
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync().ConfigureAwait(false);
        }

        return new DatabaseSnapshot(tables);
    }

    /// <summary>Returns the rows that differ in <paramref name="later"/>: added, removed, or changed under the same key.</summary>
    public IReadOnlyList<RowChange> ChangesTo(DatabaseSnapshot later)
    {
        var changes = new List<RowChange>();
        foreach (var table in _tables.Keys.Union(later._tables.Keys).Order(StringComparer.Ordinal))
        {
            var before = _tables.GetValueOrDefault(table) ?? [];
            var after = later._tables.GetValueOrDefault(table) ?? [];
            var removed = Except(before, after);
            var added = Except(after, before);
            foreach (var row in removed)
            {
                var same = added.FindIndex(a => a.Key == row.Key);
                if (same >= 0)
                {
                    changes.Add(new RowChange(table, row, added[same]));
                    added.RemoveAt(same);
                }
                else
                {
                    changes.Add(new RowChange(table, row, null));
                }
            }

            changes.AddRange(added.Select(row => new RowChange(table, null, row)));
        }

        return changes;
    }

    // The rows of the first list not matched one for one in the second (a multiset difference: two equal rows in
    // one and one in the other leave one).
    private static List<SnapshotRow> Except(List<SnapshotRow> rows, List<SnapshotRow> other)
    {
        var left = other.GroupBy(r => r.Text, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var result = new List<SnapshotRow>();
        foreach (var row in rows)
        {
            if (left.TryGetValue(row.Text, out var count) && count > 0)
            {
                left[row.Text] = count - 1;
            }
            else
            {
                result.Add(row);
            }
        }

        return result;
    }

    // Every table of the relational model (entity splitting's extra tables, owned types' and shared tables included;
    // views and queries are not tables), with its primary key's columns.
    private static IEnumerable<(string Name, string? Schema, string[] KeyColumns)> MappedTables(IModel model)
    {
        var inbox = InboxTables(model);
        return model.GetRelationalModel().Tables
            .Where(t => !inbox.Contains((t.Name, t.Schema)))
            .Select(t => (t.Name, t.Schema, t.PrimaryKey?.Columns.Select(c => c.Name).ToArray() ?? []))
            .OrderBy(t => t.Schema, StringComparer.Ordinal)
            .ThenBy(t => t.Name, StringComparer.Ordinal);
    }

    // The inbox's record table, or with generations its three record tables and its control table, by name and schema.
    private static HashSet<(string Name, string? Schema)> InboxTables(IModel model)
    {
        var tables = new HashSet<(string, string?)>();
        if (model.FindEntityType(typeof(InboxRecord)) is { } record && record.GetTableName() is { } table)
        {
            tables.Add((table, record.GetSchema()));
        }

        if (model.FindAnnotation(InboxGenerations.Annotation)?.Value is string generations)
        {
            var names = Enumerable.Range(0, InboxGenerations.Tables).Select(slot => InboxGenerations.RecordTable(generations, slot)).Append(InboxGenerations.ControlTable(generations));
            foreach (var name in names)
            {
                tables.Add((name, model.FindEntityType(name)?.GetSchema()));
            }
        }

        return tables;
    }

    private static string Format(object value) => value switch
    {
        DBNull => "NULL",
        string text => $"\"{text}\"",
        byte[] bytes when bytes.Length <= BinaryShown => "0x" + Convert.ToHexString(bytes),
        byte[] bytes => $"0x{Convert.ToHexString(bytes.AsSpan(0, BinaryShown))}…({bytes.Length} bytes, hash {Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bytes).AsSpan(0, 8))})",
        System.Collections.IEnumerable items => $"[{string.Join(", ", items.Cast<object?>().Select(i => i is null ? "NULL" : Format(i)))}]",
        DateTime time => time.ToString("O", CultureInfo.InvariantCulture),
        DateTimeOffset time => time.ToString("O", CultureInfo.InvariantCulture),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
