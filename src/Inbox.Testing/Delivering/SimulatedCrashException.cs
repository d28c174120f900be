namespace Inbox.Testing.Delivering;

/// <summary>The scenario's crash between the handler and the commit; a handler failure to the inbox, never a store one.</summary>
internal sealed class SimulatedCrashException : Exception
{
    public SimulatedCrashException()
        : base("The scenario's simulated crash between the handler and the commit.")
    {
    }

    public SimulatedCrashException(string message)
        : base(message)
    {
    }

    public SimulatedCrashException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Whether <paramref name="exception"/> is the simulated crash, or wraps it.</summary>
    public static bool Is(Exception exception) => exception is SimulatedCrashException || exception.InnerException is SimulatedCrashException;
}
