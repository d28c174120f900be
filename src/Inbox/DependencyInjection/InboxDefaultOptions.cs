using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Inbox.DependencyInjection;

/// <summary>
/// Starts every inbox's options (named after its DbContext) from the options configured without a name, so that
/// <c>services.Configure&lt;InboxOptions&gt;(configuration.GetSection("Inbox"))</c> does what it says for every inbox
/// instead of silently configuring none. Registered before any inbox's own configuration, which is applied after it.
/// </summary>
internal sealed class InboxDefaultOptions(IServiceProvider services) : IConfigureNamedOptions<InboxOptions>
{
    private static readonly PropertyInfo[] Properties = [.. typeof(InboxOptions)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.CanRead && p.CanWrite)];

    public void Configure(string? name, InboxOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrEmpty(name))
        {
            return;
        }

        var defaults = services.GetRequiredService<IOptionsFactory<InboxOptions>>().Create(Options.DefaultName);
        foreach (var property in Properties)
        {
            property.SetValue(options, property.GetValue(defaults));
        }
    }

    public void Configure(InboxOptions options) => Configure(Options.DefaultName, options);
}
