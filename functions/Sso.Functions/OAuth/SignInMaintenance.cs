using Azure;
using Azure.Data.Tables;
using Sso.Functions.Connections;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;

namespace Sso.Functions.OAuth;

/// <summary>
/// The sign-in flow's timers: IdP metadata URLs are fetched again every hour (a failure keeps
/// the last good copy and is shown on the connection), and rows that can no longer be used —
/// expired pending sign-ins, codes, access tokens and replay-cache entries — are removed.
/// </summary>
public static partial class SignInMaintenance
{
    public static IReadOnlyList<TimerFunction> Timers { get; } =
    [
        new("SamlMetadataRefresh", "0 17 * * * *", RefreshMetadataAsync),
        new("SignInCleanup", "0 */15 * * * *", CleanUpAsync),
    ];

    public static async Task<int> RefreshMetadataAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var storage = services.GetRequiredService<TableStorage>();
        var setup = services.GetRequiredService<ConnectionSetup>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Sso.Functions.Saml");
        var table = await storage.GetTableAsync(TableNames.Connections, cancellationToken);
        var refreshed = 0;
        await foreach (var row in table.QueryAsync<TableEntity>($"Type eq '{ConnectionTypes.Saml}'", cancellationToken: cancellationToken))
        {
            var connection = Connection.FromEntity(row);
            if (connection.ConfigString("idpMetadataUrl") is null) continue;
            // Stale: an admin changed the connection meanwhile; the next run fetches again.
            if (await setup.RefreshStoredMetadataAsync(connection, cancellationToken) is not { } refresh) continue;
            var (saved, error, trustChanged) = refresh;
            if (trustChanged is not null)
                await services.GetRequiredService<Audit.AuditLog>().RecordChangeAsync(connection.TenantId.Value,
                    Audit.AuditActor.System("metadata_refresh"), "connection.trust_change",
                    new Audit.AuditTarget("connection", connection.Id.Value), trustChanged, "success");
            if (saved == SaveOutcome.Saved && error is null) refreshed++;
            if (error is not null) LogRefreshFailed(logger, connection.Id.Value, connection.TenantId.Value);
        }
        return refreshed;
    }

    public static async Task<int> CleanUpAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var storage = services.GetRequiredService<TableStorage>();
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        var before = $"datetime'{now.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}'";
        var removed = 0;
        removed += await DeleteAsync(await storage.GetTableAsync(TableNames.PendingSignIns, cancellationToken), $"ExpiresAt lt {before}", cancellationToken);
        removed += await DeleteAsync(await storage.GetTableAsync(TableNames.AuthorizationCodes, cancellationToken),
            $"RowKey ge 'code|' and RowKey lt 'code}}' and ExpiresAt lt {before}", cancellationToken);
        removed += await DeleteAsync(await storage.GetTableAsync(TableNames.AccessTokens, cancellationToken),
            $"RowKey ge 'token|' and RowKey lt 'token}}' and ExpiresAt lt {before}", cancellationToken);
        removed += await DeleteAsync(await storage.GetTableAsync(TableNames.SignInSessions, cancellationToken),
            $"ExpiresAt lt {before}", cancellationToken);
        // A session marker outlives every token of its session (issued within a code's lifetime, valid for an hour).
        var markersBefore = $"datetime'{(now - AccessTokenStore.Lifetime - TimeSpan.FromHours(1)).UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}'";
        removed += await DeleteAsync(await storage.GetTableAsync(TableNames.AccessTokens, cancellationToken),
            $"RowKey ge 'revokedsid|' and RowKey lt 'revokedsid}}' and RevokedAt lt {markersBefore}", cancellationToken);
        foreach (var sweep in services.GetServices<ISignInRowSweep>())
            removed += await sweep.SweepAsync(now, cancellationToken);
        return removed;
    }

    private static async Task<int> DeleteAsync(TableClient table, string filter, CancellationToken cancellationToken)
    {
        var removed = 0;
        await foreach (var row in table.QueryAsync<TableEntity>(filter, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
        {
            try
            {
                await table.DeleteEntityAsync(row.PartitionKey, row.RowKey, row.ETag, cancellationToken);
                removed++;
            }
            catch (RequestFailedException e) when (e.Status is 404 or 412)
            {
            }
        }
        return removed;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "IdP metadata refresh failed; the last good copy is kept (connection {ConnectionId}, tenant {TenantId})")]
    private static partial void LogRefreshFailed(ILogger logger, string connectionId, string tenantId);
}
