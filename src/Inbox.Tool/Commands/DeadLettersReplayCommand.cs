using System.ComponentModel;
using System.Globalization;
using Confluent.Kafka;
using Inbox.Kafka;
using Inbox.Operations;
using Inbox.RabbitMQ;
using Inbox.Tool.Output;
using RabbitMQ.Client;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Inbox.Tool.Commands;

/// <summary>
/// <c>dotnet inbox dead-letters replay</c>: dead letters sent back to their Kafka topic (<c>--kafka</c>) or RabbitMQ queue
/// (<c>--rabbitmq</c>) with their message IDs, so the inbox applies each once.
/// </summary>
internal sealed class DeadLettersReplayCommand : AsyncCommand<DeadLettersReplayCommand.Settings>
{
    private static readonly TimeSpan ProgressAfter = TimeSpan.FromSeconds(2);

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var source = settings.Kafka is not null ? $"the Kafka topic {settings.Topic}" : $"the RabbitMQ queue {settings.Queue}";
        if (!settings.DryRun)
        {
            Confirmation.Require($"Send the dead letters of {source} back where they came from{(settings.Limit is { } l ? $" (at most {l})" : "")}?", settings.Yes, cancellationToken);
        }

        // A progress bar appears only in a terminal, and only once the replay has taken a few seconds.
        var latest = new LatestResult();
        var replay = ReplayAsync(settings, latest, cancellationToken);
        if (!settings.Json && AnsiConsole.Profile.Capabilities.Interactive && await Task.WhenAny(replay, Task.Delay(ProgressAfter, cancellationToken)) != replay)
        {
            await AnsiConsole.Progress().AutoClear(true).StartAsync(async progress =>
            {
                var task = progress.AddTask(Markup.Escape($"Replaying {source}")).IsIndeterminate();
                while (!replay.IsCompleted)
                {
                    if (latest.Value is { } now)
                    {
                        task.Description = Markup.Escape($"{source}: {now}");
                    }

                    await Task.WhenAny(replay, Task.Delay(250, CancellationToken.None));
                }
            });
        }

        var result = await replay;
        Printer.Write(settings.Json, result, () => new Markup(Markup.Escape($"{source}: {result}.")));
        return result.Matched == 0 ? ExitCodes.NothingFound : ExitCodes.Ok;
    }

    private static async Task<DeadLetterReplayResult> ReplayAsync(Settings settings, IProgress<DeadLetterReplayResult>? progress, CancellationToken cancellationToken)
    {
        IReadOnlyCollection<string>? ids = settings.MessageIds is { Length: > 0 } given ? given : null;
        try
        {
            if (settings.Kafka is { } servers)
            {
                return await KafkaDeadLetters.ReplayAsync(
                    new KafkaDeadLetterReplayOptions
                    {
                        Cluster = new ClientConfig { BootstrapServers = servers },
                        DeadLetterTopic = settings.Topic!,
                        GroupId = settings.Group,
                        From = settings.From is { } from ? DateTimeOffset.Parse(from, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal) : null,
                        Reason = settings.DeadLetterReason,
                        MessageIds = ids,
                        Limit = settings.Limit,
                        DryRun = settings.DryRun,
                        Progress = progress,
                    },
                    cancellationToken);
            }

            return await RabbitMqDeadLetters.ReplayAsync(
                new RabbitMqDeadLetterReplayOptions
                {
                    Connection = new ConnectionFactory { Uri = new Uri(settings.RabbitMq!) },
                    DeadLetterQueue = settings.Queue!,
                    TargetQueue = settings.TargetQueue,
                    Reason = settings.DeadLetterReason,
                    MessageIds = ids,
                    Limit = settings.Limit,
                    DryRun = settings.DryRun,
                    Progress = progress,
                },
                cancellationToken);
        }
        catch (InvalidOperationException exception)
        {
            throw new ToolException(ExitCodes.InvalidInput, exception.Message, exception);
        }
        catch (ProduceException<byte[]?, byte[]?> exception)
        {
            throw new ToolException(
                ExitCodes.Failed,
                $"A dead letter could not be produced to {exception.DeliveryResult?.Topic}: {exception.Error.Reason}. What was acknowledged before it is committed; fix the cause and run the replay again.",
                exception);
        }
        catch (Exception exception) when (exception is KafkaException or global::RabbitMQ.Client.Exceptions.BrokerUnreachableException or TimeoutException)
        {
            throw new ToolException(ExitCodes.Failed, $"The broker could not be reached: {exception.Message}", exception);
        }
    }

    /// <summary>The replay's last report, kept for the progress bar (reported on the replay's thread, read on the UI's).</summary>
    private sealed class LatestResult : IProgress<DeadLetterReplayResult>
    {
        private DeadLetterReplayResult? _value;

        public DeadLetterReplayResult? Value => Volatile.Read(ref _value);

        public void Report(DeadLetterReplayResult value) => Volatile.Write(ref _value, value);
    }

    internal sealed class Settings : CommandSettings
    {
        private const string DefaultGroup = "inbox-replay";

        [CommandOption("--kafka <BOOTSTRAP_SERVERS>")]
        [Description("Replays from Kafka: the cluster's bootstrap servers.")]
        public string? Kafka { get; set; }

        [CommandOption("--topic <TOPIC>")]
        [Description("Kafka: the dead-letter topic, e.g. orders.dlt.")]
        public string? Topic { get; set; }

        [CommandOption("--group <GROUP>")]
        [Description("Kafka: the consumer group that keeps the replay's progress, so it resumes (default inbox-replay).")]
        [DefaultValue(DefaultGroup)]
        public string Group { get; set; } = DefaultGroup;

        [CommandOption("--from <TIME>")]
        [Description("Kafka: start at the first dead letter written at or after this time (ISO 8601, UTC unless it says), not where the group stopped.")]
        public string? From { get; set; }

        [CommandOption("--rabbitmq <URI>")]
        [Description("Replays from RabbitMQ: the broker, e.g. amqp://guest:guest@localhost:5672/.")]
        public string? RabbitMq { get; set; }

        [CommandOption("--queue <QUEUE>")]
        [Description("RabbitMQ: the dead-letter queue (<queue>.dead-letter) or MassTransit's error queue (<queue>_error).")]
        public string? Queue { get; set; }

        [CommandOption("--target-queue <QUEUE>")]
        [Description("RabbitMQ: where to send them, instead of the queue each came from.")]
        public string? TargetQueue { get; set; }

        [CommandOption("--dead-letter-reason <REASON>")]
        [Description("Only those dead-lettered for this reason (inbox-dlt-reason), e.g. handler-failed.")]
        public string? DeadLetterReason { get; set; }

        [CommandOption("--message-id <ID>")]
        [Description("Only these message IDs (repeat the option for more).")]
        public string[]? MessageIds { get; set; }

        [CommandOption("--limit <COUNT>")]
        [Description("Reads at most this many dead letters.")]
        public long? Limit { get; set; }

        [CommandOption("--dry-run")]
        [Description("Only counts what would be replayed; changes nothing.")]
        public bool DryRun { get; set; }

        [CommandOption("-y|--yes")]
        [Description("Does not ask for a confirmation.")]
        public bool Yes { get; set; }

        [CommandOption("--json")]
        [Description("Writes the result as JSON.")]
        public bool Json { get; set; }

        public override ValidationResult Validate()
        {
            if ((Kafka is null) == (RabbitMq is null))
            {
                return ValidationResult.Error("Replay from one broker: --kafka <servers> --topic <topic>, or --rabbitmq <uri> --queue <queue>.");
            }

            if (Kafka is not null && string.IsNullOrWhiteSpace(Topic))
            {
                return ValidationResult.Error("--kafka needs --topic, the dead-letter topic.");
            }

            if (Kafka is not null && (Queue ?? TargetQueue) is not null)
            {
                return ValidationResult.Error("--queue and --target-queue are RabbitMQ's: with --kafka, each dead letter goes back to the topic it came from.");
            }

            if (RabbitMq is not null && (Topic is not null || From is not null || Group != DefaultGroup))
            {
                return ValidationResult.Error("--topic, --from and --group are Kafka's: a RabbitMQ replay reads the whole queue (filter with --message-id or --dead-letter-reason).");
            }

            if (RabbitMq is not null && (string.IsNullOrWhiteSpace(Queue) || !Uri.TryCreate(RabbitMq, UriKind.Absolute, out _)))
            {
                return ValidationResult.Error("--rabbitmq needs a URI (amqp://...) and --queue, the dead-letter queue.");
            }

            if (From is not null && !DateTimeOffset.TryParse(From, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _))
            {
                return ValidationResult.Error($"--from \"{From}\" is not a time: use ISO 8601, e.g. 2026-12-01T08:00:00Z.");
            }

            return Limit is < 1 ? ValidationResult.Error("--limit must be at least 1.") : ValidationResult.Success();
        }
    }
}
