using Sso.Functions.Hosting;
using Sso.Functions.Tenants;

namespace Sso.Functions.Audit;

/// <summary>
/// Daily: deletes audit rows older than their tenant's <c>auditRetentionDays</c>, or
/// <c>Audit:RetentionDays</c> for tenants without the setting, deleted tenants and the global partition.
/// </summary>
public static partial class AuditRetentionSweep
{
    public static TimerFunction Function { get; } = new("AuditRetentionSweep", "0 15 3 * * *", RunAsync);

    private static async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var deleted = await SweepAsync(services, cancellationToken);
        if (deleted > 0) LogDeleted(services.GetRequiredService<ILoggerFactory>().CreateLogger("Sso.Functions.Audit"), deleted);
    }

    public static async Task<int> SweepAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var options = services.GetRequiredService<AuditOptions>();
        var tenants = services.GetRequiredService<TenantStore>();
        var retention = new Dictionary<string, TimeSpan>();
        string? cursor = null;
        do
        {
            var (page, next) = await tenants.ListAsync(cursor, 200, cancellationToken);
            foreach (var tenant in page)
                if (tenant.Settings.AuditRetentionDays is { } days)
                    retention[tenant.Id.Value] = TimeSpan.FromDays(days);
            cursor = next;
        } while (cursor is not null);

        var shortest = retention.Values.Append(options.Retention).Min();
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        var deleted = await services.GetRequiredService<AuditStore>().DeleteExpiredAsync(now, shortest,
            partition => retention.TryGetValue(partition, out var own) ? own : options.Retention, cancellationToken);
        // Refusal counts name no person: they follow the service-wide retention.
        deleted += await services.GetRequiredService<DailyActivityStore>().DeleteBeforeAsync(now - options.Retention, cancellationToken);
        return deleted + await services.GetRequiredService<RefusalCountStore>().DeleteBeforeAsync(now - options.Retention, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted {Count} audit rows past their retention")]
    private static partial void LogDeleted(ILogger logger, int count);
}
