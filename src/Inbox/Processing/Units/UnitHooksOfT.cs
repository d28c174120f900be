using Microsoft.EntityFrameworkCore;

namespace Inbox.Processing.Units;

/// <summary>
/// The hooks of the units of work on <typeparamref name="TDbContext"/>: the inbox's and the idempotency keys' share
/// them, so one registration reaches both.
/// </summary>
/// <typeparam name="TDbContext">The DbContext whose units these are.</typeparam>
internal sealed class UnitHooks<TDbContext> : UnitHooks
    where TDbContext : DbContext;
