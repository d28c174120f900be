using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Inbox.AspNetCore.Tests;

public sealed class IdempotencyKeyOptionsTests
{
    /// <summary>The window binds under the name the inbox gives it, and under the name it had before (an older appsettings.json).</summary>
    [Theory]
    [InlineData("DeduplicationWindow")]
    [InlineData("KeyWindow")]
    public void DeduplicationWindow_FromConfiguration_BindsUnderItsNameAndItsFormerName(string name)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [$"Keys:{name}"] = "02:00:00" })
            .Build();
        using var services = new ServiceCollection()
            .Configure<IdempotencyKeyOptions>(configuration.GetSection("Keys"))
            .BuildServiceProvider();

        Assert.Equal(TimeSpan.FromHours(2), services.GetRequiredService<IOptions<IdempotencyKeyOptions>>().Value.DeduplicationWindow);
    }

    [Fact]
    public void Validate_WindowNotPositive_NamesTheOption()
    {
        var result = new IdempotencyKeyOptionsValidator().Validate(null, new IdempotencyKeyOptions { DeduplicationWindow = TimeSpan.Zero });

        Assert.True(result.Failed);
        Assert.Contains("IdempotencyKeyOptions.DeduplicationWindow", result.FailureMessage, StringComparison.Ordinal);
    }
}
