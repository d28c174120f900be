using System.Diagnostics;
using System.Reflection;
using System.Threading.Channels;

namespace Inbox.TestSupport;

/// <summary>
/// A worker in a process of its own, so that a test can kill it with SIGKILL rather than stop it: a test assembly
/// whose entry point runs the worker (see the chain tests) started with <c>dotnet &lt;assembly&gt; &lt;arguments&gt;</c>.
/// The worker prints "ready" once its host has started.
/// </summary>
public sealed class WorkerProcess : IDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();

    private WorkerProcess(Process process) => _process = process;

    /// <summary>Gets the lines the worker printed before "ready".</summary>
    public List<string> StartupLines { get; } = [];

    /// <summary>Waits (a minute at most) for a line the worker prints after "ready" that matches, and returns it.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await foreach (var line in _lines.Reader.ReadAllAsync(timeout.Token))
        {
            if (match(line))
            {
                return line;
            }
        }

        throw new InvalidOperationException("The worker ended without printing the line awaited.");
    }

    /// <summary>Starts the assembly's entry point with the arguments and waits (a minute at most) until it is ready.</summary>
    public static async Task<WorkerProcess> StartAsync(Assembly entry, params string[] arguments)
    {
        var host = Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";
        var start = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(entry.Location);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start)!;
        var worker = new WorkerProcess(process);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                if (line == "ready")
                {
                    // Keep reading, so that a chatty worker never blocks on a full pipe and a test can wait for a line.
                    _ = worker.ReadLinesAsync();
                    _ = process.StandardError.ReadToEndAsync(CancellationToken.None);
                    return worker;
                }

                worker.StartupLines.Add(line);
            }
        }
        catch (OperationCanceledException)
        {
        }

        worker.Kill();
        throw new InvalidOperationException($"The worker {string.Join(' ', arguments)} did not start: {await process.StandardError.ReadToEndAsync()}");
    }

    private async Task ReadLinesAsync()
    {
        while (await _process.StandardOutput.ReadLineAsync() is { } line)
        {
            _lines.Writer.TryWrite(line);
        }

        _lines.Writer.TryComplete();
    }

    /// <summary>SIGKILL: no finishing, no commit, no acknowledgement, no closing of connections.</summary>
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
