using Inbox.Tool.Database;
using Inbox.Tool.Output;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Inbox.Tool.Commands;

/// <summary><c>dotnet inbox status</c>: every inbox consumer, outbox destination and the idempotency keys.</summary>
internal sealed class StatusCommand : AsyncCommand<DatabaseSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, DatabaseSettings settings, CancellationToken cancellationToken)
    {
        await using var session = await AdminSession.OpenAsync(settings, cancellationToken);
        var status = await session.Admin.GetStatusAsync(cancellationToken);
        Printer.Write(settings.Json, status, () =>
        {
            var inbox = Printer.Table(
                $"Inbox ({status.Retention?.ToString() ?? "none"}{(status.Generation is { } g ? $", generation {g}" : "")})",
                "Table",
                "Consumer",
                "Records",
                "Oldest");
            foreach (var consumer in status.Inbox)
            {
                inbox.AddCells(consumer.Table, consumer.Consumer, consumer.Records, consumer.Oldest);
            }

            var outbox = Printer.Table("Outbox", "Table", "Transport", "Destination", "Pending", "Oldest pending", "Failed", "Last error");
            foreach (var destination in status.Outbox)
            {
                outbox.AddCells(destination.Table, destination.Transport, destination.Destination, destination.Pending, destination.OldestPending, destination.Failed, destination.LastError);
            }

            var keys = new Markup(status.IdempotencyKeys is { } count
                ? Markup.Escape($"Idempotency keys: {count} in {status.IdempotencyKeyTable}")
                : "Idempotency keys: no table");
            return new Rows(inbox, outbox, keys);
        });
        return ExitCodes.Ok;
    }
}
