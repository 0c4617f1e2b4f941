using Sso.Functions.Hosting;

namespace Sso.Functions.Tenants;

/// <summary>Removes domain claims left behind by a tenant write that crashed half-way.</summary>
public static partial class DomainClaimSweep
{
    public static TimerFunction Function { get; } = new("DomainClaimSweep", "0 */30 * * * *", RunAsync);

    private static async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var store = services.GetRequiredService<TenantStore>();
        var clock = services.GetRequiredService<TimeProvider>();
        var removed = await store.SweepOrphanedClaimsAsync(clock.GetUtcNow(), TimeSpan.FromMinutes(10), cancellationToken);
        if (removed > 0) LogRemoved(services.GetRequiredService<ILoggerFactory>().CreateLogger("Sso.Functions.Tenants"), removed);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Removed {Count} orphaned domain claims")]
    private static partial void LogRemoved(ILogger logger, int count);
}
