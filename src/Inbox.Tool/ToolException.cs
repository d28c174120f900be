namespace Inbox.Tool;

/// <summary>An ending the tool explains in one line, with the exit code that tells a script what happened.</summary>
internal sealed class ToolException(int exitCode, string message, Exception? inner = null) : Exception(message, inner)
{
    public int ExitCode { get; } = exitCode;
}
