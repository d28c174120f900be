using System.ComponentModel;
using Inbox.Tool.Database;
using Inbox.Tool.Output;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Inbox.Tool.Commands;

/// <summary><c>dotnet inbox forget</c>: one inbox record removed, so the message's next delivery runs the handler again.</summary>
internal sealed class ForgetCommand : AsyncCommand<ForgetCommand.Settings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var reason = settings.RequiredReason("forget");
        await using var session = await AdminSession.OpenAsync(settings, cancellationToken);
        if (session.Tables.InboxTable is null)
        {
            throw new ToolException(ExitCodes.InvalidInput, "The database has no inbox table: pass --inbox-table (and --schema) as the application maps it.");
        }

        Confirmation.Require($"Forget message {settings.MessageId} of consumer {settings.Consumer}? Its next delivery runs the handler again.", settings.Yes, cancellationToken);
        var forgotten = await session.Admin.ForgetAsync(settings.Consumer, settings.MessageId, reason, cancellationToken);
        Printer.Write(settings.Json, new { forgotten }, () => new Markup(Markup.Escape(forgotten
            ? $"Forgotten: the next delivery of {settings.MessageId} to {settings.Consumer} runs the handler again."
            : $"The inbox has no record of {settings.MessageId} for {settings.Consumer} (the ID is matched exactly).")));
        return forgotten ? ExitCodes.Ok : ExitCodes.NothingFound;
    }

    internal sealed class Settings : ChangeSettings
    {
        [CommandOption("--consumer <CONSUMER>", isRequired: true)]
        [Description("The consumer's name, as the inbox records it (see status).")]
        public string Consumer { get; set; } = "";

        [CommandOption("--message-id <ID>", isRequired: true)]
        [Description("The message ID, exactly: * and % are not wildcards.")]
        public string MessageId { get; set; } = "";
    }
}
