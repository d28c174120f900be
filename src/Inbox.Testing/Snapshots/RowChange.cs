namespace Inbox.Testing.Snapshots;

/// <summary>A row that differs between two snapshots: added, removed, or changed under the same key.</summary>
/// <param name="Table">The table, schema-qualified when it has a schema.</param>
/// <param name="Before">The row before, or <see langword="null"/> when it was added.</param>
/// <param name="After">The row after, or <see langword="null"/> when it was removed.</param>
internal sealed record RowChange(string Table, SnapshotRow? Before, SnapshotRow? After)
{
    private const int Shown = 300;

    /// <summary>Returns the change as one line of a report.</summary>
    /// <returns>The table, what happened, and the row (before and after for a change).</returns>
    public override string ToString() => (Before, After) switch
    {
        (null, { } added) => $"{Table}: added {Shorten(added.Text)}",
        ({ } removed, null) => $"{Table}: removed {Shorten(removed.Text)}",
        _ => $"{Table}: changed {Before!.Key}: {Shorten(Before.Text)}  ->  {Shorten(After!.Text)}",
    };

    private static string Shorten(string text) => text.Length <= Shown ? text : string.Concat(text.AsSpan(0, Shown), "…");
}
