using System.Text;

namespace Inbox.Testing;

/// <summary>What a scenario did and saw: each check, and the outbox messages of the delivery that committed.</summary>
public sealed class ExactlyOnceReport
{
    internal ExactlyOnceReport(string title, IReadOnlyList<ScenarioCheck> checks, IReadOnlyList<CapturedOutboxMessage> outbox)
    {
        Title = title;
        Checks = checks;
        Outbox = outbox;
    }

    /// <summary>Gets the checks, in the order they ran.</summary>
    public IReadOnlyList<ScenarioCheck> Checks { get; }

    /// <summary>Gets the messages the handler wrote to the outbox, once (their IDs are what the dispatcher sends).</summary>
    public IReadOnlyList<CapturedOutboxMessage> Outbox { get; }

    /// <summary>Gets whether every check passed.</summary>
    public bool Passed => Checks.All(c => c.Passed);

    private string Title { get; }

    /// <summary>Returns the report as text: one paragraph per check, failures first named as such.</summary>
    /// <returns>The readable report.</returns>
    public override string ToString()
    {
        var failed = Checks.Count(c => !c.Passed);
        var text = new StringBuilder()
            .Append(Title)
            .Append(": ")
            .Append(failed == 0 ? $"all {Checks.Count} checks passed." : $"{failed} of {Checks.Count} checks failed.")
            .AppendLine();
        foreach (var check in Checks)
        {
            text.AppendLine()
                .Append(check.Passed ? "PASS  " : "FAIL  ")
                .AppendLine(check.Name);
            foreach (var line in check.Detail.Split('\n'))
            {
                text.Append("      ").AppendLine(line);
            }
        }

        return text.ToString();
    }
}
