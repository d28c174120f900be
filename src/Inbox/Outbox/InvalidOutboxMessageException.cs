namespace Inbox;

/// <summary>
/// An outgoing message the outbox cannot carry: no destination, an empty or over-long message ID, a header name or
/// value the transport cannot carry. Thrown when the message is written, before anything is saved.
/// </summary>
public sealed class InvalidOutboxMessageException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    public InvalidOutboxMessageException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What is wrong.</param>
    public InvalidOutboxMessageException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the name of the offending parameter.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="paramName">The parameter that holds the bad value.</param>
    public InvalidOutboxMessageException(string message, string? paramName)
        : base(message, paramName)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="innerException">The cause.</param>
    public InvalidOutboxMessageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
