using System.Diagnostics;

namespace Inbox.Kafka.Tests.Infrastructure;

/// <summary>Service A of the chain in a process of its own (<see cref="ChainWorker"/>), killed with SIGKILL, not stopped.</summary>
public sealed class ChainWorkerProcess : IDisposable
{
    private readonly Process _process;

    private ChainWorkerProcess(Process process) => _process = process;

    public static async Task<ChainWorkerProcess> StartAsync(string bootstrap, string connection, string orders, string invoices, string group, bool dispatch)
    {
        var host = Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";
        var start = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { typeof(ChainWorker).Assembly.Location, "chain-a", bootstrap, connection, orders, invoices, group, dispatch.ToString() })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start)!;
        var worker = new ChainWorkerProcess(process);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                if (line == "ready")
                {
                    return worker;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        worker.Kill();
        throw new InvalidOperationException($"The chain worker did not start: {await process.StandardError.ReadToEndAsync()}");
    }

    /// <summary>SIGKILL: no finishing, no commit, no leaving the group, no flushing the producer.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}
