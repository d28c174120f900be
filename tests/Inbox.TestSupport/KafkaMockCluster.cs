using System.Reflection;
using System.Runtime.InteropServices;
using Confluent.Kafka;

namespace Inbox.TestSupport;

/// <summary>
/// librdkafka's in-process mock cluster (a real Kafka-protocol server on 127.0.0.1) with its fault injection, bound to
/// the same native librdkafka file Confluent.Kafka loaded. Experimental in librdkafka: used only through this class.
/// </summary>
public sealed class KafkaMockCluster : IDisposable
{
    public const short OffsetCommitApiKey = 8;

    private const string Native = "librdkafka";
    private readonly IntPtr _client;
    private readonly IntPtr _cluster;

    static KafkaMockCluster() => NativeLibrary.SetDllImportResolver(typeof(KafkaMockCluster).Assembly, Resolve);

    public KafkaMockCluster(int brokers = 1)
    {
        var errors = new byte[512];
        _client = rd_kafka_new(0, rd_kafka_conf_new(), errors, (UIntPtr)errors.Length);
        if (_client == IntPtr.Zero)
        {
            throw new InvalidOperationException($"rd_kafka_new failed: {System.Text.Encoding.ASCII.GetString(errors).TrimEnd('\0')}");
        }

        _cluster = rd_kafka_mock_cluster_new(_client, brokers);
        if (_cluster == IntPtr.Zero)
        {
            throw new InvalidOperationException("rd_kafka_mock_cluster_new failed.");
        }

        BootstrapServers = Marshal.PtrToStringAnsi(rd_kafka_mock_cluster_bootstraps(_cluster))!;
        rd_kafka_mock_group_initial_rebalance_delay_ms(_cluster, 0);
    }

    public string BootstrapServers { get; }

    public void CreateTopic(string topic, int partitions)
    {
        var error = rd_kafka_mock_topic_create(_cluster, topic, partitions, 1);
        if (error != 0)
        {
            throw new InvalidOperationException($"rd_kafka_mock_topic_create({topic}) failed: {(ErrorCode)error}.");
        }
    }

    /// <summary>Takes every broker down (-1) or one.</summary>
    public void BrokersDown(int brokerId = -1) => rd_kafka_mock_broker_set_down(_cluster, brokerId);

    public void BrokersUp(int brokerId = -1) => rd_kafka_mock_broker_set_up(_cluster, brokerId);

    /// <summary>The next requests of this API key fail with these errors, one each.</summary>
    public void PushRequestErrors(short apiKey, params ErrorCode[] errors) =>
        rd_kafka_mock_push_request_errors_array(_cluster, apiKey, (UIntPtr)errors.Length, errors.Select(e => (int)e).ToArray());

    public void ClearRequestErrors(short apiKey) => rd_kafka_mock_clear_request_errors(_cluster, apiKey);

    /// <summary>
    /// Raises a fatal error in a client, as librdkafka would for an unrecoverable condition (rd_kafka_test_fatal_error,
    /// the hook librdkafka offers for testing exactly this). Works on any client, on the mock or a real broker.
    /// </summary>
    public static void InjectFatalError(IClient client, ErrorCode code, string reason)
    {
        var handle = client.Handle;
        var native = (SafeHandle)(handle.GetType().GetProperty("LibrdkafkaHandle", BindingFlags.NonPublic | BindingFlags.Instance)?.GetValue(handle)
            ?? handle.GetType().GetField("LibrdkafkaHandle", BindingFlags.NonPublic | BindingFlags.Instance)?.GetValue(handle)
            ?? throw new InvalidOperationException("Confluent.Kafka's Handle no longer has LibrdkafkaHandle: update InjectFatalError."));
        var error = rd_kafka_test_fatal_error(native.DangerousGetHandle(), (int)code, reason);
        if (error != 0)
        {
            throw new InvalidOperationException($"rd_kafka_test_fatal_error failed: {(ErrorCode)error}.");
        }
    }

    public void Dispose()
    {
        rd_kafka_mock_cluster_destroy(_cluster);
        rd_kafka_destroy(_client);
    }

    // The default "librdkafka" name resolves librdkafka.so, which needs libsasl2.so.3 (absent on Debian 12); Confluent
    // itself falls back to another build. Load whatever file Confluent mapped into this process.
    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != Native)
        {
            return IntPtr.Zero;
        }

        Library.Load();
        const string maps = "/proc/self/maps";
        var path = File.Exists(maps)
            ? File.ReadLines(maps).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Where(p => p.Length >= 6 && p[^1].Contains("librdkafka", StringComparison.Ordinal)).Select(p => p[^1]).FirstOrDefault()
            : null;
        return path is null ? IntPtr.Zero : NativeLibrary.Load(path);
    }

    [DllImport(Native)]
    private static extern IntPtr rd_kafka_conf_new();

    [DllImport(Native)]
    private static extern IntPtr rd_kafka_new(int type, IntPtr conf, byte[] errstr, UIntPtr errstrSize);

    [DllImport(Native)]
    private static extern void rd_kafka_destroy(IntPtr rk);

    [DllImport(Native)]
    private static extern IntPtr rd_kafka_mock_cluster_new(IntPtr rk, int brokers);

    [DllImport(Native)]
    private static extern IntPtr rd_kafka_mock_cluster_bootstraps(IntPtr cluster);

    [DllImport(Native)]
    private static extern void rd_kafka_mock_cluster_destroy(IntPtr cluster);

    [DllImport(Native, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern int rd_kafka_mock_topic_create(IntPtr cluster, [MarshalAs(UnmanagedType.LPStr)] string topic, int partitions, int replicationFactor);

    [DllImport(Native)]
    private static extern int rd_kafka_mock_broker_set_down(IntPtr cluster, int brokerId);

    [DllImport(Native)]
    private static extern int rd_kafka_mock_broker_set_up(IntPtr cluster, int brokerId);

    [DllImport(Native)]
    private static extern void rd_kafka_mock_push_request_errors_array(IntPtr cluster, short apiKey, UIntPtr count, int[] errors);

    [DllImport(Native)]
    private static extern void rd_kafka_mock_clear_request_errors(IntPtr cluster, short apiKey);

    [DllImport(Native)]
    private static extern void rd_kafka_mock_group_initial_rebalance_delay_ms(IntPtr cluster, int delayMs);

    [DllImport(Native, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern int rd_kafka_test_fatal_error(IntPtr rk, int err, [MarshalAs(UnmanagedType.LPStr)] string reason);
}
