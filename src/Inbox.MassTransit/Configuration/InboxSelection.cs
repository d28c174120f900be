using Inbox.MassTransit.Middleware;
using Microsoft.Extensions.DependencyInjection;

namespace Inbox.MassTransit.Configuration;

/// <summary>
/// Which registered inbox (DbContext) the filters use: the one the application named, or the only one registered.
/// With a registration context it is checked when the bus is built; without one, on the first message, from the
/// message's scope.
/// </summary>
internal sealed class InboxSelection
{
    private readonly Type? _named;
    private readonly IServiceProvider? _provider;
    private InboxRunner? _runner;

    public InboxSelection(Type? named, IServiceProvider? provider)
    {
        _named = named;
        _provider = provider;
    }

    public string Description => _runner?.DbContextType.Name ?? _named?.Name ?? "the registered DbContext";

    /// <summary>Returns why no inbox can be selected, or <see langword="null"/> when one can (or cannot be known yet).</summary>
    public string? Validate() => _provider is null ? null : TrySelect(_provider, out _);

    public InboxRunner Resolve(IServiceProvider scope)
    {
        if (_runner is { } runner)
        {
            return runner;
        }

        var failure = TrySelect(_provider ?? scope, out var selected);
        return _runner = failure is null ? InboxRunner.For(selected!) : throw new InvalidOperationException(failure);
    }

    private string? TrySelect(IServiceProvider provider, out Type? selected)
    {
        var registered = provider.GetServices<InboxRegistration>().Select(r => r.DbContextType).Distinct().ToList();
        selected = null;
        if (_named is not null)
        {
            selected = registered.Contains(_named) ? _named : null;
            return selected is null
                ? $"No inbox is registered for {_named.Name}: call services.AddInbox<{_named.Name}>() before AddMassTransit."
                : null;
        }

        if (registered.Count == 1)
        {
            selected = registered[0];
            return null;
        }

        return registered.Count == 0
            ? "No inbox is registered: call services.AddInbox<YourDbContext>() before AddMassTransit."
            : $"Several inboxes are registered ({string.Join(", ", registered.Select(t => t.Name))}): name one with cfg.UseInbox<{registered[0].Name}>(context).";
    }
}
