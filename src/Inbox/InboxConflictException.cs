namespace Inbox;

/// <summary>
/// Thrown under <see cref="ConflictPolicy.Reject"/> for a message whose ID this consumer already processed with other
/// content. The handler did not run and nothing was written. A kind of <see cref="InvalidInboxInputException"/>: the
/// input is bad, retrying cannot help.
/// </summary>
public sealed class InboxConflictException : InvalidInboxInputException
{
    /// <summary>Creates the exception.</summary>
    public InboxConflictException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What is wrong.</param>
    public InboxConflictException(string message)
        : base(message, "messageId")
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="innerException">The cause.</param>
    public InboxConflictException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
