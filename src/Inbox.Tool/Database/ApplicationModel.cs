using System.Reflection;
using System.Runtime.Loader;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Inbox.Tool.Database;

/// <summary>
/// Reads the Inbox tables' names and schema from the application's own DbContext (<c>--assembly</c>, <c>--context</c>),
/// the way <c>dotnet ef</c> finds one: the assembly is loaded with its dependencies (its <c>.deps.json</c>), the
/// DbContext made by the assembly's <see cref="IDesignTimeDbContextFactory{TContext}"/> if it has one, else with a
/// constructor that takes its options (given the tool's connection string), and its model read; nothing is queried.
/// </summary>
internal static class ApplicationModel
{
    public static void Read(DatabaseSettings settings, bool postgres, string connectionString)
    {
        var path = Path.GetFullPath(settings.Assembly!);
        if (!File.Exists(path))
        {
            throw new ToolException(ExitCodes.InvalidInput, $"There is no assembly {path} (--assembly): build the application first and pass its .dll.");
        }

        // The application's dependencies from its own output folder, except what the tool has loaded already (EF Core,
        // Inbox): its DbContext then derives from the tool's DbContext type, and its model can be read here.
        var resolver = new AssemblyDependencyResolver(path);
        AssemblyLoadContext.Default.Resolving += (context, name) => resolver.ResolveAssemblyToPath(name) is { } dependency ? context.LoadFromAssemblyPath(dependency) : null;
        Assembly assembly;
        try
        {
            assembly = AssemblyLoadContext.Default.LoadFromAssemblyPath(path);
        }
        catch (BadImageFormatException exception)
        {
            throw new ToolException(ExitCodes.InvalidInput, $"{path} is not a .NET assembly (--assembly): pass the application's .dll.", exception);
        }

        var types = Types(assembly);
        var contextType = FindContext(assembly, types, settings.Context);
        using var db = Create(types, contextType, postgres, connectionString);
        var model = db.Model;

        var names = new List<(string Option, string? Schema)>();
        if (model.FindAnnotation("Inbox:Generations")?.Value is string generations)
        {
            settings.InboxTable = generations;
            names.Add(("inbox", model.GetEntityTypes().FirstOrDefault(e => e.GetTableName() == generations + "_generation")?.GetSchema()));
        }
        else if (Entity(model, "Inbox.Model.InboxRecord") is { } inbox)
        {
            settings.InboxTable = inbox.GetTableName();
            names.Add(("inbox", inbox.GetSchema()));
        }

        if (Entity(model, "Inbox.Outbox.Storage.OutboxRecord") is { } outbox)
        {
            settings.OutboxTable = outbox.GetTableName();
            names.Add(("outbox", outbox.GetSchema()));
        }

        if (Entity(model, "Inbox.AspNetCore.Storage.IdempotencyRecord") is { } keys)
        {
            settings.KeysTable = keys.GetTableName();
            names.Add(("idempotency keys", keys.GetSchema()));
        }

        if (names.Count == 0)
        {
            throw new ToolException(ExitCodes.InvalidInput, $"{contextType.Name}'s model maps no Inbox table: it calls none of modelBuilder.AddInbox(), AddOutbox(), AddIdempotencyKeys().");
        }

        var schemas = names.Select(n => n.Schema).Distinct().ToList();
        if (schemas.Count > 1)
        {
            throw new ToolException(ExitCodes.InvalidInput, $"{contextType.Name} maps its Inbox tables in more than one schema ({string.Join(", ", names.Select(n => $"{n.Option}: {n.Schema ?? "default"}"))}): run the tool once per schema with --schema and the table options.");
        }

        settings.Schema = schemas[0];
        settings.OnlyNamedTables = true;
    }

    private static IEntityType? Entity(IModel model, string clrType) => model.GetEntityTypes().FirstOrDefault(e => e.ClrType.FullName == clrType);

    // The types that load: one that refers to something missing does not stop the others from being read.
    private static Type[] Types(Assembly assembly)
    {
        try
        {
            return assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException exception)
        {
            return [.. exception.Types.OfType<Type>()];
        }
    }

    private static Type FindContext(Assembly assembly, Type[] types, string? name)
    {
        var contexts = types.Where(t => typeof(DbContext).IsAssignableFrom(t) && !t.IsAbstract).ToList();
        var matching = name is null ? contexts : contexts.Where(t => t.Name == name || t.FullName == name).ToList();
        return matching.Count switch
        {
            1 => matching[0],
            0 when name is not null => throw new ToolException(ExitCodes.InvalidInput, $"{assembly.GetName().Name} has no DbContext named {name} (--context); it has: {Names(contexts)}."),
            0 => throw new ToolException(ExitCodes.InvalidInput, $"{assembly.GetName().Name} has no DbContext."),
            _ => throw new ToolException(ExitCodes.InvalidInput, $"{assembly.GetName().Name} has more than one DbContext ({Names(contexts)}): name one with --context."),
        };
    }

    private static string Names(IEnumerable<Type> types) => string.Join(", ", types.Select(t => t.Name));

    private static DbContext Create(Type[] types, Type contextType, bool postgres, string connectionString)
    {
        var factoryType = typeof(IDesignTimeDbContextFactory<>).MakeGenericType(contextType);
        var factory = types.FirstOrDefault(t => factoryType.IsAssignableFrom(t) && !t.IsAbstract && t.GetConstructor(Type.EmptyTypes) is not null);
        if (factory is not null)
        {
            return Made(contextType, () => factoryType.GetMethod(nameof(IDesignTimeDbContextFactory<DbContext>.CreateDbContext))!
                .Invoke(Activator.CreateInstance(factory), BindingFlags.DoNotWrapExceptions, null, [Array.Empty<string>()], null));
        }

        var builder = (DbContextOptionsBuilder)Activator.CreateInstance(typeof(DbContextOptionsBuilder<>).MakeGenericType(contextType))!;
        if (postgres)
        {
            builder.UseNpgsql(connectionString);
        }
        else
        {
            builder.UseSqlite(connectionString);
        }

        var optionsType = typeof(DbContextOptions<>).MakeGenericType(contextType);
        var constructor = contextType.GetConstructor([optionsType]) ?? contextType.GetConstructor([typeof(DbContextOptions)])
            ?? throw new ToolException(
                ExitCodes.InvalidInput,
                $"{contextType.Name} has no constructor that takes only its DbContextOptions, and the assembly no IDesignTimeDbContextFactory<{contextType.Name}>: add either (dotnet ef needs the same), or pass the table options.");
        return Made(contextType, () => constructor.Invoke(BindingFlags.DoNotWrapExceptions, null, [builder.Options], null));
    }

    // The application's own code runs here (its factory, its constructor): what it throws is said as its failure.
    private static DbContext Made(Type contextType, Func<object?> make)
    {
        try
        {
            return (DbContext)make()!;
        }
        catch (Exception exception) when (exception is not ToolException)
        {
            throw new ToolException(ExitCodes.Failed, $"Making {contextType.Name} failed in the application's code: {exception.GetType().Name}: {exception.Message}", exception);
        }
    }
}
