namespace Inbox.Testing.Delivering;

/// <summary>
/// Delivers the scenario's message once the way one entry point does: through <c>IInbox</c>, or through a bus with
/// the inbox's filter. The run decides when, how often and with what expectation.
/// </summary>
internal interface IScenarioDeliveries
{
    /// <summary>Delivers the message once.</summary>
    /// <param name="crashBeforeCommit">Fail the unit after the handler ran, before its commit.</param>
    /// <param name="redelivered">Flag the delivery as a redelivery, where the entry point can.</param>
    /// <param name="cancellationToken">Cancels the delivery (the run's timeout among others).</param>
    /// <returns>What the delivery came to.</returns>
    Task<ScenarioDelivery> DeliverAsync(bool crashBeforeCommit, bool redelivered, CancellationToken cancellationToken);
}
