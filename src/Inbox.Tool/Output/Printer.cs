using System.Text.Json;
using System.Text.Json.Serialization;
using Spectre.Console;

namespace Inbox.Tool.Output;

/// <summary>Writes a command's result: JSON to standard output with <c>--json</c>, else a table for people.</summary>
internal static class Printer
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    public static void Write(bool json, object result, Func<Spectre.Console.Rendering.IRenderable> table)
    {
        if (json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(result, result.GetType(), Json));
        }
        else
        {
            AnsiConsole.Write(table());
        }
    }

    /// <summary>A table with the given columns, its cells escaped (names and errors are data, not markup).</summary>
    public static Table Table(string title, params string[] columns)
    {
        var table = new Table().Title(Markup.Escape(title)).Border(TableBorder.Rounded);
        foreach (var column in columns)
        {
            table.AddColumn(Markup.Escape(column));
        }

        return table;
    }

    public static void AddCells(this Table table, params object?[] cells)
        => table.AddRow(cells.Select(c => Markup.Escape(c switch
        {
            null => "-",
            DateTimeOffset time => time.ToString("u", System.Globalization.CultureInfo.InvariantCulture),
            IFormattable formattable => formattable.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
            var other => other.ToString() ?? "",
        })).ToArray());
}
