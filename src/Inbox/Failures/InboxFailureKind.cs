namespace Inbox;

/// <summary>
/// Whose fault a failure is. Every adapter acts on the same answer, given once by
/// <see cref="InboxFailures.Classify(Exception)"/>.
/// </summary>
public enum InboxFailureKind
{
    /// <summary>
    /// The handler failed (an exception of its own, or a database error its writes caused, such as a constraint
    /// violation): the user's retry policy applies, then the error queue or dead-letter topic.
    /// </summary>
    Handler = 0,

    /// <summary>
    /// The store failed: a transient database error, a refused or broken connection, a server shutting down or
    /// starting, a timeout. Not the message's fault: hold it and try again until the database answers; never
    /// dead-letter it for this.
    /// </summary>
    Store = 1,

    /// <summary>
    /// The input is bad: a missing, malformed or over-long message ID, a late message rejected by
    /// <see cref="LateMessagePolicy.Reject"/>, an ID reused for other content. Straight to the error queue or
    /// dead-letter topic with the reason; retrying cannot help.
    /// </summary>
    Input = 2,
}
