using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Inbox.TestSupport;

/// <summary>
/// A RabbitMQ node of one test's own: a second node on free ports with its data in a directory of its own, which the
/// test may stop, kill and start again without touching the shared broker that build/services.sh started. Messages
/// and durable queues survive a restart (the data directory is kept). Needs Debian's rabbitmq-server package
/// (build/services.sh installs it).
/// </summary>
public sealed class RabbitMqServer : IAsyncDisposable
{
    private const string Bin = "/usr/lib/rabbitmq/bin";
    private readonly string _directory;
    private readonly string _node;
    private readonly int _distributionPort;

    private RabbitMqServer(string directory, int port)
    {
        _directory = directory;
        Port = port;
        _distributionPort = ServerProcesses.FreePort();
        _node = $"inboxtest{port}@localhost";
        Uri = new Uri($"amqp://guest:guest@127.0.0.1:{port}/");
    }

    public int Port { get; }

    /// <summary>The node's address, with the default guest user (which a node lets in from the loopback only).</summary>
    public Uri Uri { get; }

    /// <summary>Creates the node's directory and starts it.</summary>
    public static async Task<RabbitMqServer> StartAsync()
    {
        if (!File.Exists(Path.Combine(Bin, "rabbitmq-server")))
        {
            throw new InvalidOperationException(
                "This test starts and restarts a RabbitMQ node of its own and needs RabbitMQ's binaries under " + Bin +
                ": run `build/services.sh start` (it installs Debian's rabbitmq-server package) or `apt-get install rabbitmq-server`.");
        }

        var directory = Path.Combine(Path.GetTempPath(), $"inbox-rmq-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path.Combine(directory, "mnesia"));
        Directory.CreateDirectory(Path.Combine(directory, "log"));
        foreach (var empty in new[] { "enabled_plugins", "rabbitmq.conf", "rabbitmq-env.conf" })
        {
            await File.WriteAllTextAsync(Path.Combine(directory, empty), "");
        }

        if (Environment.UserName == "root")
        {
            await ServerProcesses.RunAsync("chown", ["-R", "rabbitmq:rabbitmq", directory]);
        }

        var server = new RabbitMqServer(directory, ServerProcesses.FreePort());
        await server.StartAgainAsync();
        return server;
    }

    /// <summary>Starts the stopped node and waits until it answers AMQP.</summary>
    public async Task StartAgainAsync()
    {
        await NodeAsync("rabbitmq-server", "-detached");
        var deadline = Stopwatch.StartNew();
        while (!await AnswersAmqpAsync())
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(90))
            {
                throw new InvalidOperationException($"The test's RabbitMQ node {_node} did not answer on port {Port} within 90 s; see {_directory}/log.");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>A graceful stop: the node closes its connections and halts (a few seconds, more under load).</summary>
    public Task StopAsync() => NodeAsync("rabbitmqctl", "-n", _node, "stop", PidFile);

    /// <summary>
    /// Kills the node's VM with SIGKILL, as a crash or a power cut would: connections drop without a close, and only
    /// what the node had confirmed is sure to be there when it starts again.
    /// </summary>
    public async Task KillAsync()
    {
        var pid = int.Parse((await File.ReadAllTextAsync(PidFile)).Trim(), System.Globalization.CultureInfo.InvariantCulture);

        // Only the process of this node: its environment carries the node's own name.
        var environment = await File.ReadAllTextAsync($"/proc/{pid}/environ");
        if (!environment.Contains($"RABBITMQ_NODENAME={_node}", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"Process {pid} is not the test's RabbitMQ node {_node}.");
        }

        using var process = Process.GetProcessById(pid);
        process.Kill();
        await process.WaitForExitAsync();
        File.Delete(PidFile);
    }

    public async ValueTask DisposeAsync()
    {
        if (File.Exists(PidFile))
        {
            try
            {
                await KillAsync();
            }
            catch (Exception exception) when (exception is IOException or ArgumentException or InvalidOperationException)
            {
                // Already gone.
            }
        }

        Directory.Delete(_directory, recursive: true);
    }

    private string PidFile => Path.Combine(_directory, "node.pid");

    private Task NodeAsync(string program, params string[] arguments)
    {
        string[] environment =
        [
            "HOME=/var/lib/rabbitmq",
            $"RABBITMQ_NODENAME={_node}",
            "RABBITMQ_NODE_IP_ADDRESS=127.0.0.1",
            $"RABBITMQ_NODE_PORT={Port}",
            $"RABBITMQ_DIST_PORT={_distributionPort}",
            $"RABBITMQ_MNESIA_BASE={Path.Combine(_directory, "mnesia")}",
            $"RABBITMQ_LOG_BASE={Path.Combine(_directory, "log")}",
            $"RABBITMQ_ENABLED_PLUGINS_FILE={Path.Combine(_directory, "enabled_plugins")}",
            $"RABBITMQ_CONFIG_FILE={Path.Combine(_directory, "rabbitmq.conf")}",
            $"RABBITMQ_CONF_ENV_FILE={Path.Combine(_directory, "rabbitmq-env.conf")}",
            $"RABBITMQ_PID_FILE={PidFile}",
        ];
        string[] command = ["env", .. environment, Path.Combine(Bin, program), .. arguments];
        return Environment.UserName == "root"
            ? ServerProcesses.RunAsync("runuser", ["-u", "rabbitmq", "--", .. command])
            : ServerProcesses.RunAsync(command[0], command[1..]);
    }

    /// <summary>
    /// Whether the node answers the AMQP 0-9-1 protocol header with a frame (its connection.start). An open port alone
    /// is not enough, and the test fixtures have no AMQP client of their own, so the handshake's first step is written here.
    /// </summary>
    private async Task<bool> AnswersAmqpAsync()
    {
        try
        {
            using var client = new TcpClient();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await client.ConnectAsync(IPAddress.Loopback, Port, timeout.Token);
            var stream = client.GetStream();
            await stream.WriteAsync("AMQP\0\0\u0009\u0001"u8.ToArray(), timeout.Token);
            var frame = new byte[1];
            return await stream.ReadAsync(frame, timeout.Token) == 1 && frame[0] == 1;
        }
        catch (Exception exception) when (exception is SocketException or IOException or OperationCanceledException)
        {
            return false;
        }
    }
}
