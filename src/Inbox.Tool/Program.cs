using Inbox.Tool;
using Inbox.Tool.Commands;
using Spectre.Console;
using Spectre.Console.Cli;

// Redirected to a file or a pipe, tables take the width COLUMNS says (else 200) rather than wrapping at 80.
if (Console.IsOutputRedirected)
{
    AnsiConsole.Profile.Width = int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), out var columns) && columns > 0 ? columns : 200;
}

var app = new CommandApp();
app.Configure(config =>
{
    config.SetApplicationName("dotnet inbox");
    config.AddCommand<StatusCommand>("status").WithDescription("Shows every inbox consumer, outbox destination and the idempotency keys.");
    config.AddBranch("outbox", outbox =>
    {
        outbox.SetDescription("Outbox messages: failed list, retry, delete.");
        outbox.AddBranch("failed", failed =>
        {
            failed.SetDescription("Outbox messages kept as failed (the broker refused them MaxAttempts times).");
            failed.AddCommand<OutboxFailedListCommand>("list").WithDescription("Lists them, oldest first, a page at a time.");
            failed.AddCommand<OutboxFailedRetryCommand>("retry").WithDescription("Makes them pending again, so the dispatcher sends them under their message IDs.");
            failed.AddCommand<OutboxFailedDeleteCommand>("delete").WithDescription("Deletes them: they will never be sent.");
        });
    });
    config.AddCommand<ForgetCommand>("forget").WithDescription("Removes an inbox record, so the next delivery of the message runs the handler again.");
    config.AddBranch("keys", keys =>
    {
        keys.SetDescription("Idempotency keys: forget.");
        keys.AddCommand<KeysForgetCommand>("forget").WithDescription("Removes an idempotency key, so the next request with it runs the endpoint again.");
    });
    config.AddBranch("dead-letters", deadLetters =>
    {
        deadLetters.SetDescription("Dead letters: replay, from Kafka or RabbitMQ.");
        deadLetters.AddCommand<DeadLettersReplayCommand>("replay").WithDescription("Sends dead letters back to their Kafka topic or RabbitMQ queue, with their message IDs.");
    });

    // Every failure ends here: one line on stderr, and an exit code a script can tell apart.
    config.SetExceptionHandler((exception, _) =>
    {
        var (code, message) = exception switch
        {
            ToolException tool => (tool.ExitCode, tool.Message),
            CommandAppException => (ExitCodes.InvalidInput, exception.Message),
            ArgumentException => (ExitCodes.InvalidInput, exception.Message),
            OperationCanceledException => (ExitCodes.Failed, "Cancelled."),
            _ => (ExitCodes.Failed, $"{exception.GetType().Name}: {exception.Message}"),
        };
        Console.Error.WriteLine($"dotnet inbox: {message}");
        return code;
    });
});

using var cancel = new CancellationTokenSource();
// The first Ctrl+C stops the command where it can stop cleanly (a replay commits what was acknowledged); a second one
// ends the process.
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = !cancel.IsCancellationRequested;
    cancel.Cancel();
};

return await app.RunAsync(args, cancel.Token);
