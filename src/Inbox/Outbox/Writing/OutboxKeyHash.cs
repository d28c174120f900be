using System.Text;

namespace Inbox.Outbox.Writing;

/// <summary>
/// A stable 32-bit hash of a destination and key (FNV-1a over their UTF-8 bytes): the same in every process and
/// version, unlike <see cref="string.GetHashCode()"/>, because rows written by one instance are dispatched by another
/// and ordered by lane. Written out because the BCL's stable hashes (System.IO.Hashing) are a package of their own for
/// ten lines of arithmetic.
/// </summary>
internal static class OutboxKeyHash
{
    private const uint Offset = 2166136261;
    private const uint Prime = 16777619;

    public static int Of(string destination, string? key)
    {
        var hash = Offset;
        hash = Add(hash, destination);
        if (key is not null)
        {
            hash = (hash ^ 0) * Prime;
            hash = Add(hash, key);
        }

        return (int)hash;
    }

    private static uint Add(uint hash, string text)
    {
        Span<byte> buffer = stackalloc byte[256];
        var bytes = Encoding.UTF8.GetByteCount(text) <= buffer.Length ? buffer[..Encoding.UTF8.GetBytes(text, buffer)] : Encoding.UTF8.GetBytes(text);
        foreach (var b in bytes)
        {
            hash = (hash ^ b) * Prime;
        }

        return hash;
    }
}
