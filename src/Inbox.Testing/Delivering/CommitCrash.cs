using Inbox.Processing.Units;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Inbox.Testing.Delivering;

/// <summary>
/// While armed, fails every unit of work on the DbContext just before its commit, after the handler's writes were saved
/// (under <c>OneRoundTrip</c>, whose save is its commit, just before that save; for an idempotency key, after the
/// endpoint ran, before the key's final save): the unit rolls back as after a crash at that moment. Set on the units'
/// own hook, so it is the unit's commit that fails, never a save of a second DbContext inside the handler; it stays
/// armed until disarmed, so a retry of the same delivery fails too.
/// </summary>
internal sealed class CommitCrash
{
    private int _armed;
    private int _fired;

    private CommitCrash()
    {
    }

    /// <summary>
    /// Puts a crash on the units of work on <typeparamref name="TDbContext"/> in <paramref name="services"/>: the
    /// inbox's and the idempotency keys'; null when neither is registered.
    /// </summary>
    public static CommitCrash? On<TDbContext>(IServiceProvider services)
        where TDbContext : DbContext
    {
        if (services.GetService<UnitHooks<TDbContext>>() is not { } hooks)
        {
            return null;
        }

        var crash = new CommitCrash();
        hooks.BeforeCommit = _ => crash.CrashIfArmed();
        return crash;
    }

    public void Arm()
    {
        Volatile.Write(ref _fired, 0);
        Volatile.Write(ref _armed, 1);
    }

    /// <summary>Disarms it and says whether it failed a unit while armed.</summary>
    public bool Disarm()
    {
        Volatile.Write(ref _armed, 0);
        return Interlocked.Exchange(ref _fired, 0) == 1;
    }

    private void CrashIfArmed()
    {
        if (Volatile.Read(ref _armed) == 1)
        {
            Volatile.Write(ref _fired, 1);
            throw new SimulatedCrashException();
        }
    }
}
