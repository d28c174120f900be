using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace Inbox.Storage.Providers;

/// <summary>
/// Everything that differs between the databases Inbox runs on, for one EF Core model: what the engine can do (the
/// capabilities the features ask instead of testing which engine it is), the statements shared by several features,
/// and each feature's statement set (<see cref="IStatementSet{T}"/>), built once per model and kept here. The provider
/// name is read in one place, <see cref="For"/>; a database Inbox does not support fails there, with what to use.
/// </summary>
internal abstract class StorageProvider
{
    private static readonly ConditionalWeakTable<IModel, StorageProvider> Cache = [];

    private readonly ConcurrentDictionary<Type, object> _statementSets = new();
    private readonly IModel _model;
    private readonly ISqlGenerationHelper _sql;

    protected StorageProvider(IModel model, ISqlGenerationHelper sql, string contextName)
    {
        _model = model;
        _sql = sql;
        ContextName = contextName;
    }

    /// <summary>The DbContext type's name, for the messages that tell a user which call fixes the model.</summary>
    public string ContextName { get; }

    /// <summary>The engine's name, for messages.</summary>
    public abstract string Name { get; }

    /// <summary>
    /// Whether the engine has transaction-scoped advisory locks: the outbox's dispatch lanes and key order, the purge's
    /// one-purger-per-table lock and the idempotency key's in-flight lock use them. Without them the engine has
    /// <see cref="SingleWriter"/>, which serializes the writers those locks would.
    /// </summary>
    public abstract bool HasAdvisoryLocks { get; }

    /// <summary>
    /// Whether the database has one writer at a time (SQLite): a transaction that writes holds every other writer until
    /// it commits, so writers need no locks of their own, and a caller that must not block a thread queues them itself.
    /// </summary>
    public abstract bool SingleWriter { get; }

    /// <summary>
    /// Whether a batch of statements sent without an explicit transaction runs as one implicit transaction that a
    /// failed statement rolls back whole (PostgreSQL), which <see cref="InboxOptions.OneRoundTrip"/> relies on.
    /// </summary>
    public abstract bool BatchIsOneTransaction { get; }

    /// <summary>Returns the provider of a DbContext's model, or throws for a database Inbox does not support.</summary>
    /// <exception cref="InvalidOperationException">Neither PostgreSQL nor SQLite.</exception>
    public static StorageProvider For(DbContext db)
    {
        var model = db.Model;
        if (Cache.TryGetValue(model, out var provider))
        {
            return provider;
        }

        var contextName = db.GetType().Name;
        provider = db.Database.ProviderName switch
        {
            PostgreSqlProvider.EfCoreProvider => new PostgreSqlProvider(model, db.GetService<ISqlGenerationHelper>(), contextName),
            SqliteProvider.EfCoreProvider => new SqliteProvider(model, db.GetService<ISqlGenerationHelper>(), contextName),
            var other => throw new InvalidOperationException(
                $"{contextName} uses the EF Core provider '{other}', which Inbox does not support. " +
                "Inbox supports PostgreSQL (options.UseNpgsql(...)) and SQLite (options.UseSqlite(...))."),
        };
        Cache.AddOrUpdate(model, provider);
        return provider;
    }

    /// <summary>A feature's statements for this engine and model, built on first use and kept.</summary>
    public T Statements<T>(IStatementSet<T> set)
        where T : class
        => (T)_statementSets.GetOrAdd(typeof(T), static (_, s) => s.Self.Build(s.Set), (Self: this, Set: set));

    /// <summary>The table an entity type is mapped to, or null when the model does not map it.</summary>
    public ModelTable? FindTable(Type entity)
        => _model.FindEntityType(entity) is { } type ? new ModelTable(type, _sql) : null;

    /// <summary>The table an entity type of the given name (a shared-type entity) is mapped to.</summary>
    public ModelTable Table(string entityName) => new(_model.FindEntityType(entityName)!, _sql);

    /// <summary>An annotation on the model, for features configured there.</summary>
    public object? Annotation(string name) => _model.FindAnnotation(name)?.Value;

    /// <summary>
    /// The statement that deletes a bounded batch of a table's expired rows, with the cutoff and the limit as its two
    /// parameters: one statement per engine for every table the purger trims (the inbox, the idempotency keys).
    /// </summary>
    public abstract string PurgeStatement(string quotedTable, string timeColumn);

    /// <summary>The name a statement's parameter is bound by: empty for positional parameters.</summary>
    public abstract string ParameterName(string name);

    /// <summary>Calls the set's builder for this engine.</summary>
    protected abstract T Build<T>(IStatementSet<T> set)
        where T : class;
}
