namespace Inbox.Testing;

/// <summary>One check of a scenario: its name, whether it passed, and what was seen.</summary>
public sealed class ScenarioCheck
{
    internal ScenarioCheck(string name, bool passed, string detail)
    {
        Name = name;
        Passed = passed;
        Detail = detail;
    }

    /// <summary>Gets the check's name, e.g. <c>Crash before the commit</c>.</summary>
    public string Name { get; }

    /// <summary>Gets whether the check passed.</summary>
    public bool Passed { get; }

    /// <summary>Gets what the check saw: the outcomes, and for a failure the rows that differ (table, key, before and after).</summary>
    public string Detail { get; }
}
