using System.ComponentModel;
using Inbox.Tool.Database;
using Inbox.Tool.Output;
using Spectre.Console.Cli;

namespace Inbox.Tool.Commands;

/// <summary><c>dotnet inbox outbox failed list</c>: failed outbox messages, oldest first, a page at a time.</summary>
internal sealed class OutboxFailedListCommand : AsyncCommand<OutboxFailedListCommand.Settings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        await using var session = await AdminSession.OpenAsync(settings, cancellationToken);
        session.RequireOutbox();
        var failed = await session.Admin.GetFailedOutboxMessagesAsync(settings.Destination, settings.After, settings.Limit, cancellationToken);
        Printer.Write(settings.Json, failed, () =>
        {
            var table = Printer.Table($"Failed outbox messages ({failed.Count}{(failed.Count == settings.Limit ? $"; the next page: --after {failed[^1].Id}" : "")})", "Id", "Message ID", "Transport", "Destination", "Key", "Attempts", "Failed at", "Last error");
            foreach (var message in failed)
            {
                table.AddCells(message.Id, message.MessageId, message.Transport, message.Destination, message.PartitionKey, message.Attempts, message.FailedAt, message.LastError);
            }

            return table;
        });
        return ExitCodes.Ok;
    }

    internal sealed class Settings : DatabaseSettings
    {
        [CommandOption("--destination <DESTINATION>")]
        [Description("Only those to this topic or queue.")]
        public string? Destination { get; set; }

        [CommandOption("--after <ID>")]
        [Description("The last ID of the previous page.")]
        public long After { get; set; }

        [CommandOption("--limit <COUNT>")]
        [Description("How many at most (default 100, at most 10,000).")]
        [DefaultValue(100)]
        public int Limit { get; set; } = 100;
    }
}
