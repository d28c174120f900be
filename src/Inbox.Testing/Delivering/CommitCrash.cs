using Inbox.Processing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Inbox.Testing.Delivering;

/// <summary>
/// Once armed, fails the next unit of work of the DbContext's inbox just before its commit, after the handler's
/// writes were saved: the unit rolls back as after a crash at that moment. Set on the inbox's own hook, so it is the
/// unit's commit that fails, never a save of a second DbContext inside the handler; for deliveries that do not run
/// in the test's async flow (a bus's consumers).
/// </summary>
internal sealed class CommitCrash
{
    private int _armed;
    private int _fired;

    private CommitCrash()
    {
    }

    /// <summary>Puts a crash on the units of work of <typeparamref name="TDbContext"/>'s inbox in <paramref name="services"/>.</summary>
    public static CommitCrash On<TDbContext>(IServiceProvider services)
        where TDbContext : DbContext
    {
        var crash = new CommitCrash();
        services.GetRequiredService<InboxRuntime<TDbContext>>().Hooks.BeforeCommit = _ => crash.CrashIfArmed();
        return crash;
    }

    public void Arm()
    {
        Volatile.Write(ref _fired, 0);
        Volatile.Write(ref _armed, 1);
    }

    /// <summary>Disarms it and says whether it failed a unit since it was armed.</summary>
    public bool Disarm()
    {
        Volatile.Write(ref _armed, 0);
        return Interlocked.Exchange(ref _fired, 0) == 1;
    }

    private void CrashIfArmed()
    {
        if (Interlocked.CompareExchange(ref _armed, 0, 1) == 1)
        {
            Volatile.Write(ref _fired, 1);
            throw new SimulatedCrashException();
        }
    }
}
