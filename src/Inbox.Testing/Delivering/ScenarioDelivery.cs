namespace Inbox.Testing.Delivering;

/// <summary>What one delivery of the scenario came to: an outcome, an error, or neither (the simulated crash).</summary>
/// <param name="Outcome">The inbox's outcome, when the unit committed or found the message known.</param>
/// <param name="Error">What the delivery threw, other than the simulated crash.</param>
internal sealed record ScenarioDelivery(InboxOutcome? Outcome, Exception? Error)
{
    /// <summary>Gets the delivery that ended in the simulated crash, as asked.</summary>
    public static ScenarioDelivery Crashed { get; } = new(null, null);
}
