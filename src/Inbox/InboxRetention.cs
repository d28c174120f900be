namespace Inbox;

/// <summary>How expired inbox records are removed. Chosen in the model (<see cref="InboxTableOptions.Retention"/>), because it shapes the tables.</summary>
public enum InboxRetention
{
    /// <summary>
    /// One table; the purger deletes records older than the deduplication window in bounded batches. Works on every
    /// store. Its cost grows with traffic: every record is deleted row by row, with the WAL and dead tuples that brings.
    /// The default.
    /// </summary>
    Delete = 0,

    /// <summary>
    /// PostgreSQL only. Three tables used in turn as generations, each one deduplication window long: a new ID is
    /// checked against the current and the previous generation and recorded in the current one, and expired records are
    /// removed by truncating the oldest table, which costs the same whatever it holds and leaves no dead tuples. An ID is
    /// remembered for at least one window and at most about two.
    /// </summary>
    Generations = 1,
}
