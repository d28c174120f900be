using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;

namespace Inbox.AspNetCore.Tests.Support;

/// <summary>
/// The payments API as a process of its own, so that a test can kill it with SIGKILL between the commit and the
/// response. Started as <c>dotnet Inbox.AspNetCore.Tests.dll payments-server &lt;connection&gt;</c>; prints
/// "listening &lt;url&gt;", then "ready". A request with <c>X-Stall-After-Commit: true</c> prints "committed" when its
/// response starts to go out (the key's transaction has committed by then) and never finishes.
/// </summary>
public static class PaymentsServer
{
    public static async Task<int> Main(string[] args)
    {
        if (args is not ["payments-server", var connection])
        {
            await Console.Error.WriteLineAsync("usage: payments-server <connection>");
            return 2;
        }

        await using var api = await PaymentsApi.StartAsync(
            o => o.UseNpgsql(connection),
            beforeKeys: app => app.Use((context, next) =>
            {
                if (context.Request.Headers["X-Stall-After-Commit"] == "true")
                {
                    context.Response.Body = new StallingStream(context.Response.Body);
                }

                return next(context);
            }));
        Console.WriteLine($"listening {api.Client.BaseAddress}");
        Console.WriteLine("ready");
        await Task.Delay(Timeout.Infinite);
        return 0;
    }

    /// <summary>On the first write of the response: says so, then waits for the kill.</summary>
    private sealed class StallingStream(Stream inner) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Console.WriteLine("committed");
            await Task.Delay(Timeout.Infinite, cancellationToken);
            await inner.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
