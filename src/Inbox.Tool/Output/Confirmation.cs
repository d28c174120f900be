using Spectre.Console;

namespace Inbox.Tool.Output;

/// <summary>
/// Asks before anything destructive, unless <c>--yes</c>. With standard input redirected (a script), the answer is read
/// from it: <c>y</c> or <c>yes</c> goes on, anything else (or nothing) changes nothing.
/// </summary>
internal static class Confirmation
{
    public static void Require(string question, bool yes)
    {
        if (yes)
        {
            return;
        }

        bool confirmed;
        if (Console.IsInputRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            Console.Error.Write($"{question} [y/N] ");
            var answer = Console.In.ReadLine()?.Trim();
            confirmed = string.Equals(answer, "y", StringComparison.OrdinalIgnoreCase) || string.Equals(answer, "yes", StringComparison.OrdinalIgnoreCase);
        }
        else
        {
            confirmed = AnsiConsole.Confirm(Markup.Escape(question), defaultValue: false);
        }

        if (!confirmed)
        {
            throw new ToolException(ExitCodes.NotConfirmed, "Not confirmed: nothing was changed (pass --yes to skip the question).");
        }
    }
}
