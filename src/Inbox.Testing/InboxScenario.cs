using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Inbox.Testing;

/// <summary>
/// Proves in a unit test that a handler's effects happen once: <c>InboxScenario.For&lt;AppDbContext&gt;(services)
/// .Handle(messageId, handler).ShouldBeExactlyOnceAsync()</c> delivers the message as a broker would at its worst and
/// throws an <see cref="ExactlyOnceException"/> with a readable report when a write escapes the unit of work.
/// </summary>
public static class InboxScenario
{
    /// <summary>Starts a scenario on the application's own registrations.</summary>
    /// <typeparam name="TDbContext">The application's DbContext, registered with <c>AddInbox&lt;TDbContext&gt;()</c>.</typeparam>
    /// <param name="services">
    /// The application's registrations (its DbContext on the test's database, <c>AddInbox</c>, its handlers). They are
    /// copied, not changed; no hosted service is started, so the outbox's rows stay where the handler wrote them.
    /// </param>
    /// <returns>The scenario, to describe the delivery with <see cref="InboxScenario{TDbContext}.Handle(string, Func{TDbContext, CancellationToken, Task})"/>.</returns>
    public static InboxScenario<TDbContext> For<TDbContext>(IServiceCollection services)
        where TDbContext : DbContext
    {
        ArgumentNullException.ThrowIfNull(services);
        return new InboxScenario<TDbContext>(services);
    }
}
