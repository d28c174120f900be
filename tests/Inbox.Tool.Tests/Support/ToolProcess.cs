using System.Diagnostics;

namespace Inbox.Tool.Tests.Support;

/// <summary>Runs <c>dotnet inbox</c> (the built tool, in a process of its own) and collects its exit code and output.</summary>
public static class ToolProcess
{
    public static async Task<ToolRun> RunAsync(string? input, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Inbox.Tool.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        // A wide, plain console: tables are not wrapped at 80 columns, and no colour codes are written.
        start.Environment["COLUMNS"] = "250";
        start.Environment["NO_COLOR"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input);
        }

        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(timeout.Token);
        return new ToolRun(process.ExitCode, await stdout, await stderr);
    }
}

/// <summary>What one run of the tool said and how it ended.</summary>
public sealed record ToolRun(int ExitCode, string Output, string Error)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Output}\nstderr:\n{Error}";
}
