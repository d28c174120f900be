namespace Inbox.Model;

/// <summary>Checks a table or schema name given to <c>AddInbox</c> or <c>AddOutbox</c> before it reaches the model.</summary>
internal static class ModelIdentifiers
{
    public static void Validate(string? value, string name, string table)
    {
        if (string.IsNullOrWhiteSpace(value) || value.Length > 63 || value.Any(char.IsControl))
        {
            throw new ArgumentException(
                $"The {table} {name} '{value}' is not a usable identifier: give 1 to 63 characters with no control characters.",
                name);
        }
    }
}
