using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace Inbox.Storage.Providers;

/// <summary>
/// A table mapped in the EF Core model, with its identifiers quoted by the provider's own helper: what every statement
/// set builds its SQL from, so that a table or column renamed in the model is renamed in every statement.
/// </summary>
internal sealed class ModelTable
{
    private readonly IEntityType _entity;
    private readonly ISqlGenerationHelper _sql;
    private readonly StoreObjectIdentifier _store;

    public ModelTable(IEntityType entity, ISqlGenerationHelper sql)
    {
        _entity = entity;
        _sql = sql;
        var name = entity.GetTableName()!;
        var schema = entity.GetSchema();
        _store = StoreObjectIdentifier.Table(name, schema);
        Schema = schema;
        Quoted = sql.DelimitIdentifier(name, schema);
        QualifiedName = schema is null ? name : $"{schema}.{name}";
    }

    /// <summary>The table's schema, or null for the database's default.</summary>
    public string? Schema { get; }

    /// <summary>The table's name as SQL writes it: schema-qualified and quoted.</summary>
    public string Quoted { get; }

    /// <summary>The table's schema-qualified name, unquoted, for logs, telemetry and error messages.</summary>
    public string QualifiedName { get; }

    /// <summary>The quoted column a property of the entity is mapped to.</summary>
    public string Column(string property) => _sql.DelimitIdentifier(_entity.FindProperty(property)!.GetColumnName(_store)!);
}
