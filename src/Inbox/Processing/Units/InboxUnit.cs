using Inbox.Storage;
using Microsoft.EntityFrameworkCore;

namespace Inbox.Processing.Units;

/// <summary>One message's unit of work, as a value: what every way of running it needs, passed down whole.</summary>
/// <param name="Dialect">The inbox table's statements.</param>
/// <param name="Consumer">The consumer key the message is deduplicated under.</param>
/// <param name="Message">The message's ID and description.</param>
/// <param name="Handler">The application's work, on the unit's DbContext.</param>
/// <param name="RejectLate">Whether the message is late under <see cref="LateMessagePolicy.Reject"/>: rejected unless known.</param>
internal readonly record struct InboxUnit<TDbContext>(
    InboxDialect Dialect,
    string Consumer,
    InboxMessage Message,
    Func<TDbContext, CancellationToken, Task> Handler,
    bool RejectLate)
    where TDbContext : DbContext;
