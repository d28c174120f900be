namespace Inbox;

/// <summary>
/// Thrown under <see cref="LateMessagePolicy.Reject"/> for a message sent longer ago than the deduplication
/// window. The handler did not run and nothing was written.
/// </summary>
public sealed class LateMessageException : Exception
{
    /// <summary>Creates the exception.</summary>
    public LateMessageException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What is wrong.</param>
    public LateMessageException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="innerException">The cause.</param>
    public LateMessageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
