using System.ComponentModel;
using Inbox.Tool.Database;
using Inbox.Tool.Output;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Inbox.Tool.Commands;

/// <summary><c>dotnet inbox keys forget</c>: one idempotency key removed, so its next request runs the endpoint again.</summary>
internal sealed class KeysForgetCommand : AsyncCommand<KeysForgetCommand.Settings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var reason = settings.RequiredReason("forget");
        await using var session = await AdminSession.OpenAsync(settings, cancellationToken);
        if (session.Tables.KeysTable is null)
        {
            throw new ToolException(ExitCodes.InvalidInput, "The database has no idempotency-key table: pass --keys-table (and --schema) as the application maps it.");
        }

        Confirmation.Require($"Forget idempotency key {settings.Key} of {settings.Scope}? Its next request runs the endpoint again.", settings.Yes, cancellationToken);
        var forgotten = await session.Admin.ForgetIdempotencyKeyAsync(settings.Scope, settings.Key, reason, cancellationToken);
        Printer.Write(settings.Json, new { forgotten }, () => new Markup(Markup.Escape(forgotten
            ? $"Forgotten: the next request with {settings.Key} runs the endpoint again."
            : $"No key {settings.Key} in scope {settings.Scope}.")));
        return forgotten ? ExitCodes.Ok : ExitCodes.NothingFound;
    }

    internal sealed class Settings : ChangeSettings
    {
        [CommandOption("--scope <SCOPE>", isRequired: true)]
        [Description("The key's scope, as stored: by default the method and route, e.g. \"POST /payments\".")]
        public string Scope { get; set; } = "";

        [CommandOption("--key <KEY>", isRequired: true)]
        [Description("The Idempotency-Key, exactly.")]
        public string Key { get; set; } = "";
    }
}
