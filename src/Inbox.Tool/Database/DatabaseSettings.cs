using System.ComponentModel;
using Spectre.Console.Cli;

namespace Inbox.Tool.Database;

/// <summary>Where the tables are: the connection string, the engine and the tables' names as the application maps them.</summary>
internal class DatabaseSettings : CommandSettings
{
    /// <summary>The environment variable read when <c>--connection</c> is not given (it keeps the password out of the shell's history).</summary>
    public const string ConnectionVariable = "INBOX_CONNECTION";

    [CommandOption("-c|--connection <CONNECTION_STRING>")]
    [Description("The database's connection string (or the INBOX_CONNECTION environment variable).")]
    public string? Connection { get; set; }

    [CommandOption("--provider <PROVIDER>")]
    [Description("postgresql or sqlite; by default told from the connection string (Host= is PostgreSQL, Data Source= is SQLite).")]
    public string? Provider { get; set; }

    [CommandOption("--schema <SCHEMA>")]
    [Description("The tables' schema, as in AddInbox(t => t.Schema = ...); by default the connection's search path.")]
    public string? Schema { get; set; }

    [CommandOption("--inbox-table <TABLE>")]
    [Description("The inbox table's name (default inbox_messages); under generations, the name before _g0.._g2.")]
    public string? InboxTable { get; set; }

    [CommandOption("--outbox-table <TABLE>")]
    [Description("The outbox table's name (default outbox_messages).")]
    public string? OutboxTable { get; set; }

    [CommandOption("--keys-table <TABLE>")]
    [Description("The idempotency keys' table's name (default idempotency_keys).")]
    public string? KeysTable { get; set; }

    [CommandOption("--assembly <PATH>")]
    [Description("Reads the tables' names and schema from the application's DbContext in this built assembly (its .dll), as dotnet ef does.")]
    public string? Assembly { get; set; }

    [CommandOption("--context <NAME>")]
    [Description("With --assembly: the DbContext, when the assembly has more than one.")]
    public string? Context { get; set; }

    [CommandOption("--json")]
    [Description("Writes JSON to standard output instead of a table, for scripts.")]
    public bool Json { get; set; }

    /// <summary>Gets or sets whether only the tables named are looked for (the application's model named them), not the defaults.</summary>
    internal bool OnlyNamedTables { get; set; }

    /// <summary>The connection string given, or from the environment.</summary>
    public string ConnectionString => Connection ?? Environment.GetEnvironmentVariable(ConnectionVariable)
        ?? throw new ToolException(ExitCodes.InvalidInput, $"No database: pass --connection \"...\" or set {ConnectionVariable}.");
}
