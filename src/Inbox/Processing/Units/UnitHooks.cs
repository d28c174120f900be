using Microsoft.EntityFrameworkCore;

namespace Inbox.Processing.Units;

/// <summary>
/// A point in every unit of work where a test kit can act: after the handler's writes are saved, before the commit
/// (before the one batch of a one-round-trip unit, before an idempotency key's final save). <c>Inbox.Testing</c> fails
/// the unit there to prove that nothing outside it stays; nothing else sets it, and an unset hook costs one field read
/// per unit.
/// </summary>
internal class UnitHooks
{
    /// <summary>Gets or sets what runs just before the unit commits, on the unit's DbContext; what it throws fails the unit.</summary>
    public Action<DbContext>? BeforeCommit { get; set; }
}
