namespace Inbox;

/// <summary>
/// A message ID or consumer name the inbox cannot record: missing, empty, blank, too long or containing
/// control characters. Thrown before any database work; adapters route the message to the error queue
/// or dead-letter topic with this message as the reason.
/// </summary>
public class InvalidInboxInputException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    public InvalidInboxInputException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What is wrong.</param>
    public InvalidInboxInputException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the name of the offending parameter.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="paramName">The parameter that holds the bad value.</param>
    public InvalidInboxInputException(string message, string? paramName)
        : base(message, paramName)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="innerException">The cause.</param>
    public InvalidInboxInputException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
