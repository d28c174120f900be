namespace Inbox.Testing;

/// <summary>A scenario found the handler's effects not exactly-once. The message is the whole report.</summary>
public sealed class ExactlyOnceException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ExactlyOnceException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What failed.</param>
    public ExactlyOnceException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The cause.</param>
    public ExactlyOnceException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    internal ExactlyOnceException(ExactlyOnceReport report)
        : base(report.ToString()) => Report = report;

    /// <summary>Gets the report, with every check and what it saw.</summary>
    public ExactlyOnceReport? Report { get; }
}
