namespace Inbox.Testing.Snapshots;

/// <summary>One row as text: its primary key's columns, and every column with its value.</summary>
/// <param name="Key">The primary key's columns and values, e.g. <c>Id=3</c> (the whole row for a table without one).</param>
/// <param name="Text">Every column and value, in the table's order.</param>
internal sealed record SnapshotRow(string Key, string Text);
