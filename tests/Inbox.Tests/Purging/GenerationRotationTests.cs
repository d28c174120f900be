using Inbox.Storage;

namespace Inbox.Tests.Purging;

/// <summary>The rotation's decision on its own: every step it can choose, from the control row, the time and the window.</summary>
public sealed class GenerationRotationTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Window = TimeSpan.FromHours(1);

    [Fact]
    public void NoClockYet_StartsIt()
        => Assert.Equal(GenerationStep.StartClock, Decide(State() with { StartedAt = null }));

    [Fact]
    public void SettlingWithoutItsTransactionId_TakesIt()
        => Assert.Equal(GenerationStep.TakeSettleId, Decide(State(settling: true, settleAfter: null)));

    [Fact]
    public void SettlingAndEveryEarlierUnitEnded_Truncates()
        => Assert.Equal(GenerationStep.Truncate, Decide(State(settling: true, settleAfter: 100, oldestRunning: 101)));

    [Theory]
    [InlineData(100)]
    [InlineData(99)]
    public void SettlingAndAnEarlierUnitMayRun_Waits(long oldestRunning)
        => Assert.Equal(GenerationStep.WaitForSettling, Decide(State(settling: true, settleAfter: 100, oldestRunning: oldestRunning)));

    [Fact]
    public void SettlingOverAWindowOld_StillSettlesBeforeItRotates()
        => Assert.Equal(GenerationStep.WaitForSettling, Decide(State(startedAt: Now - (3 * Window), settling: true, settleAfter: 100, oldestRunning: 50)));

    [Fact]
    public void SettledAndAWindowOld_Rotates()
    {
        Assert.Equal(GenerationStep.Rotate, Decide(State(startedAt: Now - Window)));
        Assert.Equal(GenerationStep.Rotate, Decide(State(startedAt: Now - Window - TimeSpan.FromTicks(1))));
    }

    [Fact]
    public void SettledAndYoungerThanAWindow_IsDone()
        => Assert.Equal(GenerationStep.Done, Decide(State(startedAt: Now - Window + TimeSpan.FromTicks(1))));

    private static GenerationStep Decide(GenerationState state) => GenerationRotation.Decide(state, Now, Window);

    private static GenerationState State(DateTimeOffset? startedAt = null, bool settling = false, long? settleAfter = null, long oldestRunning = 0)
        => new(7, startedAt ?? Now - TimeSpan.FromMinutes(1), null, null, settling, settleAfter, oldestRunning);
}
