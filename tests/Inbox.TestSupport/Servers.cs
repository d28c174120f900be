using DotNet.Testcontainers.Builders;
using Testcontainers.PostgreSql;
using Testcontainers.RabbitMq;

namespace Inbox.TestSupport;

/// <summary>
/// Where the real servers are: an environment variable when set (build/test.sh sets them), else a Testcontainers
/// container when a Docker engine answers, else a failure that says how to start them. Never a silent skip.
/// </summary>
public static class Servers
{
    public const string PostgresVariable = "INBOX_POSTGRES";
    public const string RabbitMqVariable = "INBOX_RABBITMQ";

    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static string? _postgres;
    private static string? _rabbitMq;

    /// <summary>A PostgreSQL server connection string (without a database).</summary>
    public static async Task<string> PostgresAsync()
    {
        if (Environment.GetEnvironmentVariable(PostgresVariable) is { Length: > 0 } fromEnvironment)
        {
            return fromEnvironment;
        }

        await Gate.WaitAsync();
        try
        {
            if (_postgres is null)
            {
                var container = await StartAsync(() => new PostgreSqlBuilder("postgres:16-alpine").Build(), "PostgreSQL", PostgresVariable);
                _postgres = container.GetConnectionString();
            }

            return _postgres;
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>A RabbitMQ AMQP URI.</summary>
    public static async Task<Uri> RabbitMqAsync()
    {
        if (Environment.GetEnvironmentVariable(RabbitMqVariable) is { Length: > 0 } fromEnvironment)
        {
            return new Uri(fromEnvironment);
        }

        await Gate.WaitAsync();
        try
        {
            if (_rabbitMq is null)
            {
                var container = await StartAsync(() => new RabbitMqBuilder("rabbitmq:3.13-management-alpine").Build(), "RabbitMQ", RabbitMqVariable);
                _rabbitMq = container.GetConnectionString();
            }

            return new Uri(_rabbitMq);
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>Builds and starts a container; without a Docker engine, fails with the way to start the server here.</summary>
    public static async Task<T> StartAsync<T>(Func<T> build, string server, string variable)
        where T : DotNet.Testcontainers.Containers.IContainer
    {
        try
        {
            var container = build();
            await container.StartAsync();
            return container;
        }
        catch (Exception exception) when (exception is DockerUnavailableException or TimeoutException or HttpRequestException or ArgumentException)
        {
            throw new InvalidOperationException(
                $"No {server} for the tests: {variable} is not set and no Docker engine answers ({exception.Message}). " +
                "Start the servers with `build/services.sh start` and run the tests with `build/test.sh` (it sets " +
                $"{variable}), or set {variable} yourself, or start Docker.",
                exception);
        }
    }
}
