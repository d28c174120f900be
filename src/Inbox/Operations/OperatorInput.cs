namespace Inbox.Operations;

/// <summary>Checks what an operator typed before it reaches a statement: names are exact, with no control characters.</summary>
internal static class OperatorInput
{
    /// <summary>Throws unless <paramref name="value"/> is a non-blank name without control characters.</summary>
    public static void ThrowIfNotAName(string? value, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(value))] string? parameter = null, bool newLines = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(value, parameter);
        foreach (var c in value)
        {
            if (char.IsControl(c) && !(newLines && c == '\n'))
            {
                throw new ArgumentException($"The {parameter} contains a control character (U+{(int)c:X4}): name it exactly, as it is stored.", parameter);
            }
        }
    }

    /// <summary>Throws unless a reason is given: every destructive operation is logged with one.</summary>
    public static void ThrowIfNoReason(string? reason, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(reason))] string? parameter = null)
        => ArgumentException.ThrowIfNullOrWhiteSpace(reason, parameter);
}
