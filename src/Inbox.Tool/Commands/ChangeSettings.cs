using System.ComponentModel;
using Inbox.Tool.Database;
using Spectre.Console.Cli;

namespace Inbox.Tool.Commands;

/// <summary>What every command that changes something takes: why (for the application's log), and whether to ask first.</summary>
internal class ChangeSettings : DatabaseSettings
{
    [CommandOption("--reason <REASON>")]
    [Description("Why, for the application's log.")]
    public string? Reason { get; set; }

    [CommandOption("-y|--yes")]
    [Description("Does not ask for a confirmation.")]
    public bool Yes { get; set; }

    /// <summary>The reason, which a change that cannot be undone must have.</summary>
    public string RequiredReason(string change)
        => Reason ?? throw new ToolException(ExitCodes.InvalidInput, $"Say why with --reason: the {change} is logged with it.");
}
