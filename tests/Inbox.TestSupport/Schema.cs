using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Inbox.TestSupport;

/// <summary>A test's set-up of the tables: the model created on the database the registrations point at.</summary>
public static class Schema
{
    public static async Task CreateAsync<TDbContext>(IServiceCollection services)
        where TDbContext : DbContext
    {
        await using var provider = services.BuildServiceProvider();
        await using var scope = provider.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<TDbContext>().Database.EnsureCreatedAsync();
    }
}
