using Inbox.Processing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Inbox.Testing.Delivering;

/// <summary>
/// While armed, fails every unit of work of the DbContext's inbox just before its commit, after the handler's writes
/// were saved (under <c>OneRoundTrip</c>, whose save is its commit, just before that save): the unit rolls back as after
/// a crash at that moment. Set on the inbox's own hook, so it is the unit's commit that fails, never a save of a second
/// DbContext inside the handler; it stays armed until disarmed, so a retry of the same delivery fails too.
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
        var runtime = services.GetService<InboxRuntime<TDbContext>>() ?? throw ScenarioServices.MissingInbox<TDbContext>();
        runtime.Hooks.BeforeCommit = _ => crash.CrashIfArmed();
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
