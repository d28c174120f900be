using MassTransit;

namespace Inbox.MassTransit.Middleware;

/// <summary>
/// The consumer key of one filter, formed once per receive endpoint instead of from the address of every message:
/// a filter belongs to one endpoint's consumer pipe, so its input address does not change. Deliveries run on many
/// threads at once, so the address and its key are cached together as one immutable object, read and replaced whole.
/// </summary>
internal sealed class ConsumerKeyCache<TConsumer>(InboxConsumeOptions options)
{
    private Cached? _cached;

    public string For(ConsumeContext context) => For(context.ReceiveContext.InputAddress);

    public string For(Uri? address)
    {
        if (Volatile.Read(ref _cached) is { } cached && (ReferenceEquals(cached.Address, address) || Equals(cached.Address, address)))
        {
            return cached.Key;
        }

        var endpoint = EndpointName(address);
        var key = options.ConsumerKey is { } custom ? custom(endpoint, typeof(TConsumer)) : $"{endpoint}/{TypeCache<TConsumer>.ShortName}";
        Volatile.Write(ref _cached, new Cached(address, key));
        return key;
    }

    /// <summary>The queue name: the last segment of the endpoint's address, without its query.</summary>
    public static string EndpointName(Uri? inputAddress)
    {
        var path = inputAddress?.AbsolutePath.TrimEnd('/') ?? "";
        return Uri.UnescapeDataString(path[(path.LastIndexOf('/') + 1)..]);
    }

    private sealed record Cached(Uri? Address, string Key);
}
