namespace Inbox.Tool.Output;

/// <summary>
/// Asks before anything destructive, unless <c>--yes</c>. The question goes to standard error, so that it never mixes
/// with the output (<c>--json</c> piped to a script); the answer is a line read from standard input: <c>y</c> or
/// <c>yes</c> goes on, anything else (or nothing) changes nothing.
/// </summary>
internal static class Confirmation
{
    public static void Require(string question, bool yes, CancellationToken cancellationToken)
    {
        if (yes)
        {
            return;
        }

        Console.Error.Write($"{question} [y/N] ");
        var answer = Console.In.ReadLine()?.Trim();
        var confirmed = string.Equals(answer, "y", StringComparison.OrdinalIgnoreCase) || string.Equals(answer, "yes", StringComparison.OrdinalIgnoreCase);

        // Ctrl+C while the question waited is a no, whatever was typed after it.
        if (!confirmed || cancellationToken.IsCancellationRequested)
        {
            throw new ToolException(ExitCodes.NotConfirmed, "Not confirmed: nothing was changed (pass --yes to skip the question).");
        }
    }
}
