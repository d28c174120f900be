using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Inbox.AspNetCore.Http;

/// <summary>
/// SHA-256 of what makes a request this request: method, path, query and body. The same key with another fingerprint
/// is a different request (422). The body is buffered so that the endpoint still reads it.
/// </summary>
internal static class RequestFingerprint
{
    public static async Task<byte[]> ComputeAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes($"{request.Method}\n{request.Path}\n{request.QueryString}\n"));
        request.EnableBuffering();
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            hash.AppendData(buffer, 0, read);
        }

        request.Body.Position = 0;
        return hash.GetHashAndReset();
    }
}
