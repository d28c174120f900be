using Inbox.Benchmarks.Harness;
using Inbox.Benchmarks.Scenarios.Messaging;

namespace Inbox.Benchmarks.Scenarios;

/// <summary>Every scenario by name. The test suite runs each with a tiny size so that the harness keeps working.</summary>
public static class ScenarioCatalogue
{
    /// <param name="smoke">Small fixed sizes (e.g. fewer expired rows to purge), for the test suite.</param>
    public static IReadOnlyDictionary<string, Func<IScenario>> Create(bool smoke = false) =>
        new Dictionary<string, Func<IScenario>>(StringComparer.OrdinalIgnoreCase)
        {
            ["core"] = () => new CoreScenario(),
            ["core-dup"] = () => new CoreScenario(0.10),
            ["purge"] = () => new PurgeScenario(smoke ? 5_000 : 1_000_000),
            ["masstransit"] = () => new MassTransitScenario(batch: false, warmUpMessages: WarmUp(smoke)),
            ["masstransit-dup"] = () => new MassTransitScenario(batch: false, duplicateShare: 0.10, warmUpMessages: WarmUp(smoke)),
            ["masstransit-batch"] = () => new MassTransitScenario(batch: true, warmUpMessages: WarmUp(smoke)),
            ["masstransit-outbox"] = () => new MassTransitOutboxScenario(warmUpMessages: WarmUp(smoke)),
            ["rabbitmq"] = () => new RabbitMq.RabbitMqScenario(warmUpMessages: WarmUp(smoke)),
            ["rabbitmq-dup"] = () => new RabbitMq.RabbitMqScenario(duplicateShare: 0.10, warmUpMessages: WarmUp(smoke)),
            ["rabbitmq-batch"] = () => new RabbitMq.RabbitMqScenario(batch: true, warmUpMessages: WarmUp(smoke)),
            ["rabbitmq-outbox"] = () => new RabbitMq.RabbitMqOutboxScenario(warmUpMessages: WarmUp(smoke)),
            ["http-idempotency"] = () => new Http.HttpIdempotencyScenario(),
            ["kafka"] = () => new Kafka.KafkaScenario(smoke),
            ["kafka-outbox"] = () => new Kafka.KafkaOutboxScenario(smoke),
        };

    private static int WarmUp(bool smoke) => smoke ? 20 : 2_000;
}
