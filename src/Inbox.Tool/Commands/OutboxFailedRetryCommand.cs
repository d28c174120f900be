using Inbox.Tool.Database;
using Inbox.Tool.Output;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Inbox.Tool.Commands;

/// <summary><c>dotnet inbox outbox failed retry</c>: failed outbox messages made pending again, under their message IDs.</summary>
internal sealed class OutboxFailedRetryCommand : AsyncCommand<OutboxSelectionSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, OutboxSelectionSettings settings, CancellationToken cancellationToken)
    {
        var selection = settings.Selection;
        await using var session = await AdminSession.OpenAsync(settings, cancellationToken);
        session.RequireOutbox();
        Confirmation.Require($"Send again the failed outbox messages of {session.Tables.OutboxTable} ({selection})?", settings.Yes, cancellationToken);
        var count = await session.Admin.RetryFailedOutboxMessagesAsync(selection, settings.Reason ?? "retried with dotnet inbox", cancellationToken);
        Printer.Write(settings.Json, new { retried = count }, () => new Markup(Markup.Escape($"{count} failed outbox messages made pending again ({selection}).")));
        return count == 0 ? ExitCodes.NothingFound : ExitCodes.Ok;
    }
}
