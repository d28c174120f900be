namespace Inbox.Processing;

/// <summary>Checks a message ID or consumer name before any database work.</summary>
internal static class InboxInput
{
    public static void Validate(string? value, int maxLength, string paramName)
    {
        var problem = Check(value, maxLength);
        if (problem is not null)
        {
            throw new InvalidInboxInputException($"The {Describe(paramName)} {problem}", paramName);
        }
    }

    private static string? Check(string? value, int maxLength)
    {
        if (value is null)
        {
            return "is missing (null).";
        }

        if (value.Length == 0)
        {
            return "is empty.";
        }

        if (string.IsNullOrWhiteSpace(value))
        {
            return "is only white space.";
        }

        if (value.Length > maxLength)
        {
            return $"is {value.Length} characters long; the limit is {maxLength} (InboxOptions.MaxIdLength).";
        }

        var control = value.AsSpan().IndexOfAnyInRange('\0', '\u001f');
        if (control < 0)
        {
            control = value.AsSpan().IndexOfAnyInRange('\u007f', '\u009f');
        }

        return control >= 0 ? $"contains the control character U+{(int)value[control]:X4} at position {control}." : null;
    }

    private static string Describe(string paramName) => paramName switch
    {
        "consumer" => "consumer name",
        "messageId" => "message ID",
        _ => paramName,
    };
}
