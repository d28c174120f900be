namespace Inbox.Storage;

/// <summary>The step a retention pass by generations takes next, decided from the control row alone.</summary>
internal enum GenerationStep
{
    /// <summary>Nothing to do until the current generation is a window old.</summary>
    Done,

    /// <summary>The first pass: start the current generation's clock.</summary>
    StartClock,

    /// <summary>A generation just became current: take the transaction ID every unit that read the previous one is below.</summary>
    TakeSettleId,

    /// <summary>Every such unit has ended: truncate the expired table and end settling.</summary>
    Truncate,

    /// <summary>Such units may still be running: wait, within the pass's budget.</summary>
    WaitForSettling,

    /// <summary>The current generation is a window old: make the next one current and settling.</summary>
    Rotate,
}

/// <summary>
/// The decision of the rotation, apart from its execution (<see cref="PostgreSqlGenerationsDialect.RetireAsync"/>):
/// a pure function of the control row, the time and the window, tested on its own.
/// </summary>
internal static class GenerationRotation
{
    public static GenerationStep Decide(GenerationState state, DateTimeOffset now, TimeSpan window)
    {
        if (state.StartedAt is not { } startedAt)
        {
            return GenerationStep.StartClock;
        }

        if (state.Settling)
        {
            return state.SettleAfter is not { } settleAfter ? GenerationStep.TakeSettleId
                : state.OldestRunning > settleAfter ? GenerationStep.Truncate
                : GenerationStep.WaitForSettling;
        }

        return startedAt <= now - window ? GenerationStep.Rotate : GenerationStep.Done;
    }
}
