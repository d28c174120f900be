using System.Data.Common;
using Inbox.Operations;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Inbox.Tool.Database;

/// <summary>
/// Connects to the database the settings name, finds which of the Inbox tables it has, and gives the admin over them.
/// An unreachable database, a table named on the command line that is not there, or a malformed connection string
/// end the command before anything is read or changed.
/// </summary>
internal sealed class AdminSession : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly AsyncServiceScope _scope;

    private AdminSession(ServiceProvider services, ToolModel tables)
    {
        _services = services;
        _scope = services.CreateAsyncScope();
        Tables = tables;
        Admin = _scope.ServiceProvider.GetRequiredService<IInboxAdmin<ToolDbContext>>();
    }

    public IInboxAdmin<ToolDbContext> Admin { get; }

    public ToolModel Tables { get; }

    public static async Task<AdminSession> OpenAsync(DatabaseSettings settings, CancellationToken cancellationToken)
    {
        var connectionString = settings.ConnectionString;
        var postgres = IsPostgres(settings.Provider, connectionString);
        if (settings.Assembly is not null)
        {
            if (settings.InboxTable is not null || settings.OutboxTable is not null || settings.KeysTable is not null || settings.Schema is not null)
            {
                throw new ToolException(ExitCodes.InvalidInput, "Name the tables either with --assembly or with the table options, not both.");
            }

            ApplicationModel.Read(settings, postgres, connectionString);
        }

        DbConnection connection;
        try
        {
            connection = postgres
                ? new NpgsqlConnection(connectionString)
                : new SqliteConnection(new SqliteConnectionStringBuilder(connectionString) { Mode = SqliteOpenMode.ReadWrite }.ToString());
        }
        catch (ArgumentException exception)
        {
            throw new ToolException(ExitCodes.InvalidInput, $"The connection string is not valid for {(postgres ? "PostgreSQL" : "SQLite")}: {exception.Message}", exception);
        }

        ToolModel tables;
        await using (connection)
        {
            try
            {
                await connection.OpenAsync(cancellationToken);
            }
            catch (Exception exception) when (exception is DbException or InvalidOperationException or System.Net.Sockets.SocketException)
            {
                throw new ToolException(ExitCodes.Failed, $"Cannot connect to the {(postgres ? "PostgreSQL" : "SQLite")} database: {exception.Message}", exception);
            }

            tables = await FindTablesAsync(connection, postgres, settings, cancellationToken);
        }

        var services = new ServiceCollection();
        services.AddSingleton(tables);
        services.AddDbContext<ToolDbContext>(o =>
        {
            if (postgres)
            {
                o.UseNpgsql(connectionString);
            }
            else
            {
                o.UseSqlite(connectionString);
            }
        });
        if (tables.InboxTable is not null)
        {
            services.AddInbox<ToolDbContext>();
        }

        if (tables.OutboxTable is not null)
        {
            services.AddOutbox<ToolDbContext>();
        }

        if (tables.KeysTable is not null)
        {
            services.AddIdempotencyKeys<ToolDbContext>();
        }

        return new AdminSession(services.BuildServiceProvider(), tables);
    }

    /// <summary>Refuses a command on the outbox when the database has no outbox table.</summary>
    public void RequireOutbox()
    {
        if (Tables.OutboxTable is null)
        {
            throw new ToolException(ExitCodes.InvalidInput, "The database has no outbox table: pass --outbox-table (and --schema) as the application maps it.");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _scope.DisposeAsync();
        await _services.DisposeAsync();
    }

    private static bool IsPostgres(string? provider, string connectionString) => provider?.ToUpperInvariant() switch
    {
        "POSTGRESQL" or "POSTGRES" or "NPGSQL" => true,
        "SQLITE" => false,
        null => !connectionString.Contains("Data Source", StringComparison.OrdinalIgnoreCase) && !connectionString.Contains("DataSource", StringComparison.OrdinalIgnoreCase),
        _ => throw new ToolException(ExitCodes.InvalidInput, $"Unknown provider \"{provider}\": use postgresql or sqlite."),
    };

    // Which tables exist: those named on the command line must; the default names are looked for, and left out if absent
    // (an application with no outbox, or no idempotency keys).
    private static async Task<ToolModel> FindTablesAsync(DbConnection connection, bool postgres, DatabaseSettings settings, CancellationToken cancellationToken)
    {
        async Task<bool> ExistsAsync(string table)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = postgres
                ? "SELECT to_regclass(CASE WHEN @s IS NULL THEN quote_ident(@t) ELSE quote_ident(@s) || '.' || quote_ident(@t) END) IS NOT NULL"
                : "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = @t";
            var schema = command.CreateParameter();
            schema.ParameterName = "s";
            schema.DbType = System.Data.DbType.String;
            schema.Value = (object?)settings.Schema ?? DBNull.Value;
            command.Parameters.Add(schema);
            var name = command.CreateParameter();
            name.ParameterName = "t";
            name.Value = table;
            command.Parameters.Add(name);
            return Convert.ToBoolean(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
        }

        async Task<string?> FindAsync(string? named, string byDefault, string option)
        {
            if (named is null && settings.OnlyNamedTables)
            {
                return null;
            }

            var table = named ?? byDefault;
            if (await ExistsAsync(table))
            {
                return table;
            }

            return named is null ? null : throw new ToolException(ExitCodes.InvalidInput, $"There is no table {Qualified(settings.Schema, table)} ({Source(option)}).");
        }

        string Source(string option) => settings.OnlyNamedTables ? "as the application's model maps it: is the database migrated?" : option;

        var inboxName = settings.InboxTable ?? "inbox_messages";
        string? inbox = null;
        var retention = InboxRetention.Delete;
        var lookForInbox = settings.InboxTable is not null || !settings.OnlyNamedTables;
        if (lookForInbox && await ExistsAsync(inboxName))
        {
            inbox = inboxName;
        }
        else if (lookForInbox && postgres && await ExistsAsync(inboxName + "_generation"))
        {
            (inbox, retention) = (inboxName, InboxRetention.Generations);
        }
        else if (settings.InboxTable is not null)
        {
            throw new ToolException(ExitCodes.InvalidInput, $"There is no table {Qualified(settings.Schema, inboxName)} ({Source("--inbox-table")}), nor its generations ({inboxName}_generation).");
        }

        var outbox = await FindAsync(settings.OutboxTable, "outbox_messages", "--outbox-table");
        var keys = await FindAsync(settings.KeysTable, "idempotency_keys", "--keys-table");
        if (inbox is null && outbox is null && keys is null)
        {
            throw new ToolException(
                ExitCodes.InvalidInput,
                $"No inbox, outbox or idempotency-key table in {Qualified(settings.Schema, "")}: pass the names the application maps (--inbox-table, --outbox-table, --keys-table, --schema).");
        }

        return new ToolModel(settings.Schema, inbox, retention, outbox, keys);
    }

    private static string Qualified(string? schema, string table) => schema is null ? (table.Length == 0 ? "the default schema" : table) : $"{schema}.{table}".TrimEnd('.');
}
