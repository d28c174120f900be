using Inbox.Tool.Database;
using Inbox.Tool.Output;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Inbox.Tool.Commands;

/// <summary><c>dotnet inbox outbox failed delete</c>: failed outbox messages deleted, one or by destination.</summary>
internal sealed class OutboxFailedDeleteCommand : AsyncCommand<OutboxSelectionSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, OutboxSelectionSettings settings, CancellationToken cancellationToken)
    {
        var selection = settings.Selection;
        if (selection.IsAll)
        {
            throw new ToolException(ExitCodes.InvalidInput, "Delete failed outbox messages one at a time (--id) or by destination (--destination), not --all.");
        }

        var reason = settings.RequiredReason("deletion");
        await using var session = await AdminSession.OpenAsync(settings, cancellationToken);
        session.RequireOutbox();
        Confirmation.Require($"Delete the failed outbox messages of {session.Tables.OutboxTable} ({selection})? They will never be sent.", settings.Yes, cancellationToken);
        var count = await session.Admin.DeleteFailedOutboxMessagesAsync(selection, reason, cancellationToken);
        Printer.Write(settings.Json, new { deleted = count }, () => new Markup(Markup.Escape($"{count} failed outbox messages deleted ({selection}).")));
        return count == 0 ? ExitCodes.NothingFound : ExitCodes.Ok;
    }
}
