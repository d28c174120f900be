namespace Inbox.Tool;

/// <summary>What <c>dotnet inbox</c> exits with, for scripts.</summary>
internal static class ExitCodes
{
    /// <summary>Done.</summary>
    public const int Ok = 0;

    /// <summary>Failed: the database or the broker could not be reached, or an unexpected error.</summary>
    public const int Failed = 1;

    /// <summary>Refused: invalid arguments, an unknown table, a name with control characters. Nothing was changed.</summary>
    public const int InvalidInput = 2;

    /// <summary>Nothing matched: no such inbox record, key or failed outbox message. Nothing was changed.</summary>
    public const int NothingFound = 3;

    /// <summary>The confirmation was declined (or could not be asked). Nothing was changed.</summary>
    public const int NotConfirmed = 4;
}
